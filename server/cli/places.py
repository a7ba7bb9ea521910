"""``flask --app server places …``: the places' boundaries for the map."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from analysis.errors import AnalysisError
from server.cli.support import fail_on_api_error
from server.extensions import db
from server.reports import boundaries


@click.group("places")
def places_group():
    """The places (districts and communes) beyond the unit list `init` loads: their boundaries.

    Example:

    \b
        flask --app server places boundaries show
    """


@places_group.group("boundaries")
def boundaries_group():
    """Load, show or remove the boundaries the report maps are drawn from (GeoJSON keyed by GSO codes).

    Without boundaries the maps are tile maps (one tile per commune); with them, boundary maps.

    Example:

    \b
        flask --app server places boundaries load cantho.geojson --attribution "© OpenStreetMap contributors"
    """


@boundaries_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--attribution", required=True,
              help='Licence and attribution shown under every map, '
                   'e.g. "© OpenStreetMap contributors (ODbL)".')
@with_appcontext
@fail_on_api_error
def load_command(path: Path, attribution: str):
    """Load a GeoJSON FeatureCollection of district and commune polygons, replacing any loaded before.

    Each feature names its place by a property: commune_code or district_code (GSO codes), ref:gso
    (OpenStreetMap's tag) or commune_key (Ferry's key, for the units without a code of their own).
    A file naming any unknown code is refused whole; places it does not cover are listed.

    Example:

    \b
        flask --app server places boundaries load cantho.geojson --attribution "© OpenStreetMap contributors"
    """
    cap = current_app.config["BOUNDARY_MAX_BYTES"]
    size = path.stat().st_size
    if size > cap:
        # refused before reading: the file may be far larger than memory should hold
        raise click.ClickException(f"{path.name} has {size:,} bytes; at most {cap:,} are accepted.")
    try:
        loaded = boundaries.load(db.session, path.read_bytes(), source_name=path.name,
                                 attribution=attribution, max_bytes=cap,
                                 max_positions=current_app.config["BOUNDARY_MAX_POSITIONS"], cli=True)
    except AnalysisError as exc:
        db.session.rollback()
        lines = [exc.detail, *(f"  {e['pointer']}: {e['detail']}" for e in exc.errors)]
        raise click.ClickException("\n".join(lines)) from exc
    db.session.commit()
    shapes = loaded.shapes
    click.echo(f"Loaded {len(shapes['districts'])} district and {len(shapes['communes'])} commune boundaries "
               f"from {path.name}.")
    _echo_missing(loaded.missing)


def _echo_missing(missing: dict) -> None:
    for level in ("districts", "communes"):
        if missing.get(level):
            click.echo(f"No boundary for {len(missing[level])} {level}: {', '.join(missing[level])}")


@boundaries_group.command("show")
@with_appcontext
def show_command():
    """Say which boundaries are loaded, from which file, under which attribution, and what they miss.

    Example:

    \b
        flask --app server places boundaries show
    """
    loaded = boundaries.current_set(db.session)
    if loaded is None:
        click.echo("No boundaries loaded: the maps are tile maps.")
        return
    click.echo(f"{loaded.source_name}, loaded {loaded.loaded_at:%Y-%m-%d %H:%M} UTC: "
               f"{len(loaded.shapes['districts'])} districts, {len(loaded.shapes['communes'])} communes.")
    click.echo(f"Attribution: {loaded.attribution}")
    _echo_missing(loaded.missing)


@boundaries_group.command("clear")
@with_appcontext
def clear_command():
    """Remove the loaded boundaries; the maps go back to tile maps.

    Example:

    \b
        flask --app server places boundaries clear
    """
    removed = boundaries.clear(db.session, cli=True)
    db.session.commit()
    click.echo("Boundaries removed." if removed else "No boundaries were loaded.")
