"""The GAN config: presets produce the right sizes, and bad configs fail with useful messages."""

import pytest

from deepfakelab.errors import ConfigError
from deepfakelab.gan.config import BlockSpec, GANConfig, LayerSpec, classic28, classic64, flatten


def test_presets_produce_their_image_sizes():
    assert classic28().generator_sizes() == [1, 3, 6, 13, 28]
    assert classic28().discriminator_sizes() == [28, 13, 5, 1]
    assert classic64().generator_sizes() == [1, 4, 8, 16, 32, 64]
    assert classic64().discriminator_sizes() == [64, 32, 16, 8, 4, 1]


def test_generator_that_misses_the_image_size_names_the_sizes():
    config = classic28()
    config.generator.final = LayerSpec(kernel=5, stride=2)
    with pytest.raises(ConfigError, match=r"generator makes 29x29 .* 1 -> 3 -> 6 -> 13 -> 29"):
        config.validate()


def test_generator_block_that_shrinks_to_nothing_is_named():
    config = classic28()
    config.generator.blocks[0] = BlockSpec(256, kernel=1, stride=1, padding=1)
    with pytest.raises(ConfigError, match="generator block 1 .* turns 1x1 into -1x-1"):
        config.validate()


def test_discriminator_must_end_at_one_logit():
    config = classic28()
    config.discriminator.final = LayerSpec(kernel=3, stride=1)
    with pytest.raises(ConfigError, match=r"discriminator ends at 3x3, not 1x1"):
        config.validate()


def test_discriminator_block_larger_than_its_input_is_named():
    config = classic28()
    config.discriminator.blocks.append(BlockSpec(64, kernel=7, stride=2))
    with pytest.raises(ConfigError, match="discriminator block 3 .* gets a 5x5 input"):
        config.validate()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"train.batch_size": 1}, "batch_size must be at least 2"),
        ({"train.lr": 0.0}, "lr must be positive"),
        ({"generator.output_activation": "relu"}, "output_activation must be 'tanh' or 'sigmoid'"),
        ({"generator.z_dim": 0}, "z_dim must be positive"),
        ({"channels": 2}, "channels must be 1"),
    ],
)
def test_invalid_fields_are_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        classic28().replace(**changes).validate()


def test_dropout_out_of_range_names_the_block():
    config = classic28()
    config.discriminator.blocks[1].dropout = 1.5
    with pytest.raises(ConfigError, match="discriminator block 2: dropout"):
        config.validate()


def test_unknown_field_is_an_error():
    with pytest.raises(ConfigError, match="no config field named 'train.learning_rate'"):
        classic28().replace(**{"train.learning_rate": 1})


def test_round_trip_through_dict_keeps_everything():
    config = classic64(channels=1).replace(**{"train.lr": 1e-3, "generator.extra_blocks": 3})
    again = GANConfig.from_dict(config.to_dict())
    assert again == config
    assert flatten(again)["generator.extra_blocks"] == 3
