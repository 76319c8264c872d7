"""What each built-in avatar looks like, and where its moving parts sit (design units).

The bust is designed on a 1000 x 1000 square; the painter scales it to the requested size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from akool_mcp.render.builtin.paint import Color

CX = 500.0  # the face's vertical centre line
EYE_Y = 405.0
EYE_DX = 72.0  # eye centre distance from CX
EYE_HW = 34.0  # half the eye's width
MOUTH_Y = 540.0
MOUTH_MAX_GAP = 30.0  # lip gap when fully open

BROW_LIFT = 9.0  # how far the brows rise on a stressed syllable

# Boxes (left, top, right, bottom) that hold everything a blink, a brow lift or a mouth
# movement changes.
EYES_REGION = (CX - EYE_DX - EYE_HW - 16, EYE_Y - 56 - BROW_LIFT, CX + EYE_DX + EYE_HW + 16, EYE_Y + 20)
HEAD_CENTRE = (CX, 420.0)  # the ellipse that sways with the head (hair included)
HEAD_RADII = (215.0, 265.0)
NECK = (CX, 700.0)  # the head turns about this point
EYE_WIDTH = 2 * (EYE_DX + EYE_HW)  # outer eye corners' distance, the unit of head motion
MOUTH_REGION = (CX - 66, MOUTH_Y - 24, CX + 66, MOUTH_Y + 54)

HairStyle = Literal["short", "fringe", "crop", "long", "bob", "bun", "afro"]
Clothing = Literal["crew", "vneck", "blazer", "suit", "cardigan"]


@dataclass(frozen=True)
class AvatarSpec:
    avatar_id: str
    name: str
    gender: Literal["female", "male"]
    skin: Color  # BGR, like every colour here
    hair: Color
    hair_style: HairStyle
    iris: Color
    lips: Color
    clothing: Color
    clothing_style: Clothing
    accent: Color  # shirt under a jacket, collar trim, blouse
    tie: Color | None = None
    glasses: bool = False
    beard: bool = False
    earrings: Color | None = None
    necklace: Color | None = None

    @property
    def mouth_half_width(self) -> float:
        return 45.0 if self.gender == "female" else 47.0


def _bgr(r: int, g: int, b: int) -> Color:
    return (b, g, r)


SPECS: tuple[AvatarSpec, ...] = (
    AvatarSpec(
        avatar_id="local_amara",
        name="Amara",
        gender="female",
        skin=_bgr(124, 80, 56),
        hair=_bgr(34, 24, 22),
        hair_style="afro",
        iris=_bgr(70, 42, 26),
        lips=_bgr(128, 62, 62),
        clothing=_bgr(222, 164, 48),
        clothing_style="crew",
        accent=_bgr(196, 140, 36),
        earrings=_bgr(226, 182, 84),
    ),
    AvatarSpec(
        avatar_id="local_liam",
        name="Liam",
        gender="male",
        skin=_bgr(240, 202, 178),
        hair=_bgr(112, 74, 46),
        hair_style="short",
        iris=_bgr(72, 118, 168),
        lips=_bgr(196, 124, 116),
        clothing=_bgr(38, 54, 92),
        clothing_style="blazer",
        accent=_bgr(246, 246, 244),
    ),
    AvatarSpec(
        avatar_id="local_sofia",
        name="Sofia",
        gender="female",
        skin=_bgr(218, 166, 128),
        hair=_bgr(58, 36, 26),
        hair_style="long",
        iris=_bgr(98, 62, 36),
        lips=_bgr(184, 86, 92),
        clothing=_bgr(134, 32, 58),
        clothing_style="vneck",
        accent=_bgr(112, 24, 46),
        necklace=_bgr(222, 190, 120),
    ),
    AvatarSpec(
        avatar_id="local_kenji",
        name="Kenji",
        gender="male",
        skin=_bgr(238, 200, 164),
        hair=_bgr(30, 28, 34),
        hair_style="fringe",
        iris=_bgr(62, 40, 28),
        lips=_bgr(196, 128, 114),
        clothing=_bgr(48, 98, 74),
        clothing_style="crew",
        accent=_bgr(38, 80, 60),
        glasses=True,
    ),
    AvatarSpec(
        avatar_id="local_grace",
        name="Grace",
        gender="female",
        skin=_bgr(244, 212, 194),
        hair=_bgr(206, 204, 210),
        hair_style="bun",
        iris=_bgr(96, 128, 112),
        lips=_bgr(190, 98, 112),
        clothing=_bgr(150, 128, 192),
        clothing_style="cardigan",
        accent=_bgr(246, 240, 232),
        necklace=_bgr(244, 240, 232),
    ),
    AvatarSpec(
        avatar_id="local_omar",
        name="Omar",
        gender="male",
        skin=_bgr(172, 116, 82),
        hair=_bgr(36, 30, 30),
        hair_style="crop",
        iris=_bgr(58, 36, 24),
        lips=_bgr(150, 90, 82),
        clothing=_bgr(62, 64, 72),
        clothing_style="suit",
        accent=_bgr(204, 222, 240),
        tie=_bgr(124, 36, 48),
        beard=True,
    ),
)
