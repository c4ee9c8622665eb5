"""The dashboard page (`/dashboard`) and what it loads: its own script and style, and Plotly's, served from the
installed `plotly` package (no CDN: the page works offline). The page itself is public and holds no data; its script
reads the insights API with the bearer token the visitor gives, kept in the tab's session."""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.problems import Problem

router = APIRouter(prefix="/dashboard", include_in_schema=False)

HERE = Path(__file__).resolve().parent.parent / "dashboard"
PLOTLY = Path(str(files("plotly").joinpath("package_data", "plotly.min.js")))
ASSETS = {
    "dashboard.js": (HERE / "dashboard.js", "text/javascript"),
    "dashboard.css": (HERE / "dashboard.css", "text/css"),
    "plotly.min.js": (PLOTLY, "text/javascript"),
}
# The page runs its own and Plotly's scripts only, and talks to this API alone.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@router.get("")
async def page() -> FileResponse:
    return FileResponse(
        HERE / "index.html", media_type="text/html", headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"}
    )


@router.get("/{asset}")
async def asset(asset: str) -> FileResponse:
    if asset not in ASSETS:
        raise Problem(404, f"no dashboard asset {asset}")
    path, media_type = ASSETS[asset]
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=300"})
