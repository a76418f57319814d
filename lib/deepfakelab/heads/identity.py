"""Who a synthetic head is: every trait that stays fixed over a video, sampled from one seed.

An :class:`Identity` holds head and jaw shape, skin, hair, eyes, brows, nose, mouth, ears,
background and accessories. Sizes are in *head units*: the head's half width is 1, so a trait
like ``eye_width=0.36`` means "36 % of half the head width"; colours are RGB floats in [0, 1].
Sampling uses its own ``numpy.random.Generator`` built from the seed, so the same seed gives
the same person on every machine and no global random state is touched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

HAIR_STYLES = ("bald", "short", "medium", "long", "bun")
BACKGROUNDS = ("flat", "gradient", "textured", "clutter")
GLASSES = ("clear", "dark")
EYEWEAR = ("goggles", "diving_mask")
FACE_COVERS = ("scarf", "mask")
HEADWEAR = ("hat", "hood")
FACIAL_HAIR = ("beard", "moustache", "stubble")

#: Accessory kinds, in the order reports list them; "none" means an accessory-free identity.
ACCESSORY_KINDS = ("none", *GLASSES, *EYEWEAR, *FACE_COVERS, *HEADWEAR, *FACIAL_HAIR)

# Skin tones spanning light to deep (sRGB), between which identities interpolate.
_SKIN_TONES = np.array(
    [
        [0.98, 0.85, 0.76],
        [0.93, 0.76, 0.64],
        [0.85, 0.65, 0.50],
        [0.74, 0.53, 0.39],
        [0.60, 0.42, 0.30],
        [0.48, 0.32, 0.22],
        [0.38, 0.25, 0.17],
    ]
)
_HAIR_COLOURS = np.array(
    [
        [0.08, 0.06, 0.05],  # black
        [0.25, 0.16, 0.10],  # dark brown
        [0.45, 0.30, 0.18],  # brown
        [0.75, 0.58, 0.35],  # blond
        [0.55, 0.22, 0.10],  # auburn
        [0.70, 0.70, 0.70],  # grey
        [0.92, 0.90, 0.86],  # white
    ]
)
_IRIS_COLOURS = np.array(
    [[0.30, 0.18, 0.08], [0.20, 0.12, 0.06], [0.25, 0.45, 0.70], [0.30, 0.50, 0.35], [0.50, 0.40, 0.20]]
)


@dataclass(frozen=True)
class Identity:
    """The fixed traits of one synthetic person (head units; RGB in [0, 1]).

    Build one with :meth:`sample`; change a trait with :func:`dataclasses.replace`, e.g.
    ``dataclasses.replace(ident, glasses="dark")`` or :meth:`without_accessories`.
    """

    seed: int
    # Head: half height (half width is 1), depth, jaw narrowing (0 = egg, 0.35 = pointed chin).
    head_height: float = 1.32
    head_depth: float = 1.1
    jaw_taper: float = 0.22
    skin: tuple[float, float, float] = (0.85, 0.65, 0.5)
    blush: float = 0.15
    # Hair: style from HAIR_STYLES, RGB colour, volume above the scalp, hairline height.
    hair_style: str = "short"
    hair: tuple[float, float, float] = (0.25, 0.16, 0.1)
    hair_volume: float = 0.12
    hairline: float = -0.62
    # Eyes: half width, opening (height/width), spacing of the centres, iris colour.
    eye_width: float = 0.19
    eye_opening: float = 0.42
    eye_spacing: float = 0.40
    iris: tuple[float, float, float] = (0.3, 0.18, 0.08)
    # Brows: thickness, arch, colour factor relative to the hair (darker brows for blonds).
    brow_thickness: float = 0.055
    brow_arch: float = 0.05
    brow: tuple[float, float, float] = (0.2, 0.13, 0.08)
    # Nose: length (from eyes to tip), half width at the nostrils.
    nose_length: float = 0.46
    nose_width: float = 0.15
    # Mouth: half width, lip thickness, lip colour.
    mouth_width: float = 0.30
    lip_thickness: float = 0.07
    lips: tuple[float, float, float] = (0.7, 0.4, 0.38)
    ear_size: float = 0.28
    # Clothing and background.
    clothes: tuple[float, float, float] = (0.2, 0.3, 0.5)
    background: str = "gradient"
    background_colours: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (0.6, 0.65, 0.7),
        (0.3, 0.35, 0.4),
    )
    # Accessories (None = absent); colours for those that have one.
    glasses: str | None = None
    eyewear: str | None = None
    face_cover: str | None = None
    headwear: str | None = None
    facial_hair: str | None = None
    accessory_colour: tuple[float, float, float] = (0.15, 0.15, 0.18)

    @classmethod
    def sample(cls, seed: int, accessory_rate: float = 0.5) -> "Identity":
        """Draw an identity from ``seed``.

        ``accessory_rate`` in [0, 1] is the chance that the identity wears at least one
        accessory (glasses, goggles or diving mask, scarf or mask, hat or hood, facial hair);
        0 gives accessory-free people, for face-detector checks.
        """
        if int(seed) < 0:
            raise ConfigError(f"identity seeds are non-negative integers, got {seed}")
        if not 0.0 <= accessory_rate <= 1.0:
            raise ConfigError(f"accessory_rate must be in [0, 1], got {accessory_rate}")
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x1D]))
        # The draws' order is the identity: the same seed must give the same person in every version.
        colours = _draw_colours(rng)
        accessories = _draw_accessories(rng, accessory_rate)
        return cls(seed=int(seed), **_draw_features(rng, colours), **accessories)

    @property
    def accessories(self) -> tuple[str, ...]:
        """The accessories worn, by kind name (see :data:`ACCESSORY_KINDS`); empty if none."""
        worn = (self.glasses, self.eyewear, self.face_cover, self.headwear, self.facial_hair)
        return tuple(a for a in worn if a is not None)

    def without_accessories(self) -> "Identity":
        """The same person with every accessory removed."""
        return dataclasses.replace(
            self, glasses=None, eyewear=None, face_cover=None, headwear=None, facial_hair=None
        )

    def wearing(self, kind: str) -> "Identity":
        """The same person wearing only the accessory ``kind`` (one of :data:`ACCESSORY_KINDS`)."""
        bare = self.without_accessories()
        if kind == "none":
            return bare
        for field, options in (
            ("glasses", GLASSES),
            ("eyewear", EYEWEAR),
            ("face_cover", FACE_COVERS),
            ("headwear", HEADWEAR),
            ("facial_hair", FACIAL_HAIR),
        ):
            if kind in options:
                return dataclasses.replace(bare, **{field: kind})
        raise ConfigError(f"unknown accessory {kind!r}; choose one of {', '.join(ACCESSORY_KINDS)}")


def _draw_colours(rng: np.random.Generator) -> dict:
    """The first draws of :meth:`Identity.sample`: skin, hair (style and colour), brows, lips and
    the background's kind and two colours, as arrays (brows and lips are mixed from skin and hair)."""
    u = rng.uniform
    skin = _mix(_SKIN_TONES, u(0, len(_SKIN_TONES) - 1)) * u(0.95, 1.05, 3)
    hair_style = HAIR_STYLES[rng.choice(len(HAIR_STYLES), p=[0.07, 0.38, 0.2, 0.23, 0.12])]
    hair = _mix(_HAIR_COLOURS, u(0, len(_HAIR_COLOURS) - 1)) * u(0.9, 1.1)
    brow = np.minimum(hair, 0.35) * u(0.6, 1.0)
    lips = skin * np.array([0.95, 0.62, 0.62]) * u(0.75, 0.95)
    background = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
    bg1 = rng.uniform(0.1, 0.95, 3)
    bg2 = np.clip(bg1 * u(0.4, 1.3) + u(-0.15, 0.15, 3), 0, 1)
    return {
        "skin": skin,
        "hair_style": hair_style,
        "hair": hair,
        "brow": brow,
        "lips": lips,
        "background": background,
        "bg1": bg1,
        "bg2": bg2,
    }


def _draw_accessories(rng: np.random.Generator, accessory_rate: float) -> dict[str, str | None]:
    """{kind: name} of the accessories worn: none, or (with chance ``accessory_rate``) one main
    accessory and sometimes a second one of another kind (never glasses with goggles)."""
    u = rng.uniform
    accessories: dict[str, str | None] = {}
    if u() < accessory_rate:
        # One main accessory, sometimes a second one of another kind.
        kinds = ["glasses", "eyewear", "face_cover", "headwear", "facial_hair"]
        weights = np.array([0.28, 0.14, 0.2, 0.2, 0.18])
        first = rng.choice(len(kinds), p=weights)
        chosen = {first}
        if u() < 0.3:
            second = rng.choice(len(kinds), p=weights)
            if {kinds[first], kinds[second]} != {"glasses", "eyewear"}:
                chosen.add(second)
        options = {
            "glasses": GLASSES,
            "eyewear": EYEWEAR,
            "face_cover": FACE_COVERS,
            "headwear": HEADWEAR,
            "facial_hair": FACIAL_HAIR,
        }
        for k in sorted(chosen):
            accessories[kinds[k]] = str(rng.choice(options[kinds[k]]))
    return accessories


def _draw_features(rng: np.random.Generator, colours: dict) -> dict:
    """The last draws of :meth:`Identity.sample`: the head's shape and features, in the order of
    the fields they fill, with the colours drawn before (:func:`_draw_colours`)."""
    u = rng.uniform
    return dict(
        head_height=u(1.22, 1.4),
        head_depth=u(1.0, 1.2),
        jaw_taper=u(0.08, 0.32),
        skin=_rgb(colours["skin"]),
        blush=u(0.0, 0.3),
        hair_style=colours["hair_style"],
        hair=_rgb(colours["hair"]),
        hair_volume=u(0.06, 0.2),
        hairline=u(-0.72, -0.52),
        eye_width=u(0.17, 0.21),
        eye_opening=u(0.36, 0.5),
        eye_spacing=u(0.37, 0.44),
        iris=_rgb(_IRIS_COLOURS[rng.integers(len(_IRIS_COLOURS))] * u(0.8, 1.2)),
        brow_thickness=u(0.04, 0.075),
        brow_arch=u(0.02, 0.08),
        brow=_rgb(colours["brow"]),
        nose_length=u(0.4, 0.52),
        nose_width=u(0.12, 0.18),
        mouth_width=u(0.25, 0.34),
        lip_thickness=u(0.05, 0.09),
        lips=_rgb(colours["lips"]),
        ear_size=u(0.24, 0.32),
        clothes=_rgb(rng.uniform(0.05, 0.9, 3)),
        background=colours["background"],
        background_colours=(_rgb(colours["bg1"]), _rgb(colours["bg2"])),
        accessory_colour=_rgb(rng.uniform(0.05, 0.8, 3)),
    )


def _mix(table: np.ndarray, position: float) -> np.ndarray:
    """Linear interpolation between the rows of ``table`` at a fractional row ``position``."""
    i = int(np.floor(position))
    j = min(i + 1, len(table) - 1)
    f = position - i
    return table[i] * (1 - f) + table[j] * f


def _rgb(value) -> tuple[float, float, float]:
    r, g, b = np.clip(np.asarray(value, dtype=float), 0.0, 1.0)
    return (float(r), float(g), float(b))
