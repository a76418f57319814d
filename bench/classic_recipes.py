"""The two classic DCGAN recipes, written the way their tutorials write them, as baselines.

- ``C1W2``: the deeplearning.ai GAN course's DCGAN (course 1, week 2) for 28 px MNIST-like
  images: z 64, generator hidden 64, discriminator hidden 16, batch 128, a DataLoader, a fresh
  noise batch for the generator step, and ``retain_graph=True`` on the discriminator's backward.
- ``PyTorchDCGAN``: ``pytorch/examples/dcgan/main.py`` at 64 px (ngf = ndf = 64, batch 128),
  sigmoid + BCELoss, the generator step reusing the discriminator step's fakes.

They are baselines for ``bench/gan.py``: same architecture as the kit's presets, timed in the
same run. Both initialise weights as their tutorials do.
"""

from __future__ import annotations


import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


# ----------------------------------------------------------------------------- C1W2 (28 px)
class C1W2Generator(nn.Module):
    def __init__(self, z_dim=64, im_chan=1, hidden_dim=64):
        super().__init__()
        self.z_dim = z_dim
        self.gen = nn.Sequential(
            self.make_gen_block(z_dim, hidden_dim * 4),
            self.make_gen_block(hidden_dim * 4, hidden_dim * 2, kernel_size=4, stride=1),
            self.make_gen_block(hidden_dim * 2, hidden_dim),
            self.make_gen_block(hidden_dim, im_chan, kernel_size=4, final_layer=True),
        )

    def make_gen_block(self, input_channels, output_channels, kernel_size=3, stride=2, final_layer=False):
        if not final_layer:
            return nn.Sequential(
                nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride),
                nn.BatchNorm2d(output_channels),
                nn.ReLU(inplace=True),
            )
        return nn.Sequential(
            nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride), nn.Tanh()
        )

    def forward(self, noise):
        return self.gen(noise.view(len(noise), self.z_dim, 1, 1))


class C1W2Discriminator(nn.Module):
    def __init__(self, im_chan=1, hidden_dim=16):
        super().__init__()
        self.disc = nn.Sequential(
            self.make_disc_block(im_chan, hidden_dim),
            self.make_disc_block(hidden_dim, hidden_dim * 2),
            self.make_disc_block(hidden_dim * 2, 1, final_layer=True),
        )

    def make_disc_block(self, input_channels, output_channels, kernel_size=4, stride=2, final_layer=False):
        if not final_layer:
            return nn.Sequential(
                nn.Conv2d(input_channels, output_channels, kernel_size, stride),
                nn.BatchNorm2d(output_channels),
                nn.LeakyReLU(0.2, inplace=True),
            )
        return nn.Sequential(nn.Conv2d(input_channels, output_channels, kernel_size, stride))

    def forward(self, image):
        return self.disc(image).view(len(image), -1)


def c1w2_weights_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    if isinstance(m, nn.BatchNorm2d):
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
        torch.nn.init.constant_(m.bias, 0)


def c1w2_train(images: torch.Tensor, steps: int, z_dim=64, batch_size=128, lr=0.0002, device="cpu", seed=0):
    """The C1W2 loop over ``images`` ((N, 1, 28, 28) in [0, 1]) for ``steps`` steps; returns losses."""
    torch.manual_seed(seed)
    dataset = TensorDataset(images * 2 - 1, torch.zeros(len(images)))  # Normalize((0.5,), (0.5,))
    dataloader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    gen, disc = C1W2Generator(z_dim).to(device), C1W2Discriminator().to(device)
    gen_opt = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999))
    disc_opt = torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))
    gen, disc = gen.apply(c1w2_weights_init), disc.apply(c1w2_weights_init)
    criterion = nn.BCEWithLogitsLoss()
    losses, step = [], 0
    while step < steps:
        for real, _ in dataloader:
            cur_batch_size = len(real)
            real = real.to(device)
            disc_opt.zero_grad()
            fake_noise = torch.randn(cur_batch_size, z_dim, device=device)
            fake = gen(fake_noise)
            disc_fake_pred = disc(fake.detach())
            disc_fake_loss = criterion(disc_fake_pred, torch.zeros_like(disc_fake_pred))
            disc_real_pred = disc(real)
            disc_real_loss = criterion(disc_real_pred, torch.ones_like(disc_real_pred))
            disc_loss = (disc_fake_loss + disc_real_loss) / 2
            disc_loss.backward(retain_graph=True)
            disc_opt.step()
            gen_opt.zero_grad()
            fake_noise_2 = torch.randn(cur_batch_size, z_dim, device=device)
            fake_2 = gen(fake_noise_2)
            disc_fake_pred = disc(fake_2)
            gen_loss = criterion(disc_fake_pred, torch.ones_like(disc_fake_pred))
            gen_loss.backward()
            gen_opt.step()
            losses.append((disc_loss.item(), gen_loss.item(), cur_batch_size))
            step += 1
            if step >= steps:
                break
    return losses


# ------------------------------------------------------------------- pytorch/examples (64 px)
class PTGenerator(nn.Module):
    def __init__(self, nz=64, ngf=64, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class PTDiscriminator(nn.Module):
    def __init__(self, ndf=64, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def pt_weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


def pytorch_dcgan_train(
    images: torch.Tensor, steps: int, nz=64, batch_size=128, lr=0.0002, device="cpu", seed=0
):
    """The pytorch/examples DCGAN loop over ``images`` ((N, C, 64, 64) in [0, 1]) for ``steps`` steps."""
    torch.manual_seed(seed)
    nc = images.shape[1]
    dataloader = DataLoader(
        TensorDataset(images * 2 - 1, torch.zeros(len(images))), batch_size=batch_size, shuffle=True
    )
    netG, netD = PTGenerator(nz, nc=nc).to(device), PTDiscriminator(nc=nc).to(device)
    netG.apply(pt_weights_init)
    netD.apply(pt_weights_init)
    criterion = nn.BCELoss()
    real_label, fake_label = 1, 0
    optimizerD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(0.5, 0.999))
    losses, step = [], 0
    while step < steps:
        for data in dataloader:
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = data[0].to(device)
            batch_size_ = real_cpu.size(0)
            label = torch.full((batch_size_,), real_label, dtype=real_cpu.dtype, device=device)
            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            noise = torch.randn(batch_size_, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            errD = errD_real + errD_fake
            optimizerD.step()
            # (2) Update G network: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            optimizerG.step()
            losses.append((errD.item(), errG.item(), batch_size_))
            step += 1
            if step >= steps:
                break
    return losses
