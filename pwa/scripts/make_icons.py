"""Generate the PWA icons (192, 512 and a maskable 512) with Pillow: run with the repo's .venv."""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "public" / "icons"
BLUE = (29, 78, 216)


def icon(size: int, maskable: bool) -> Image.Image:
    img = Image.new("RGB", (size, size), BLUE)
    d = ImageDraw.Draw(img)
    pad = size * (0.22 if maskable else 0.12)
    # a location pin with a check mark: "visit verified"
    r = (size - 2 * pad) / 2.6
    cx, cy = size / 2, size / 2 - r * 0.35
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill="white")
    d.polygon([(cx - r * 0.75, cy + r * 0.6), (cx + r * 0.75, cy + r * 0.6), (cx, cy + r * 2.0)], fill="white")
    w = max(2, int(size * 0.035))
    d.line([(cx - r * 0.45, cy), (cx - r * 0.1, cy + r * 0.35), (cx + r * 0.5, cy - r * 0.35)], fill=BLUE, width=w)
    return img


OUT.mkdir(parents=True, exist_ok=True)
icon(192, False).save(OUT / "icon-192.png")
icon(512, False).save(OUT / "icon-512.png")
icon(512, True).save(OUT / "maskable-512.png")
print("icons written to", OUT)
