"""Plotly's Spanish locale, shipped inside each chart's config (no script from a CDN): month and day names on the
date axes ("4 oct." not "Oct 4"), decimal comma and thousands dot on the value axes, the toolbar in Spanish."""

from __future__ import annotations

from typing import Any

from bakery.app.i18n import _MONTHS, _WEEKDAYS

ES: dict[str, Any] = {
    "dictionary": {
        "Autoscale": "Autoescalar",
        "Box Select": "Seleccionar rectángulo",
        "Click to enter Colorscale title": "Introducir el título de la Escala de Color",
        "Click to enter Component A title": "Introducir el título del Componente A",
        "Click to enter Plot title": "Introducir el título de la Gráfica",
        "Click to enter X axis title": "Introducir el título del eje X",
        "Click to enter Y axis title": "Introducir el título del eje Y",
        "Compare data on hover": "Comparar datos al pasar por encima",
        "Double-click on legend to isolate one trace": "Doble clic en la leyenda para aislar una serie",
        "Double-click to zoom back out": "Doble clic para reducir el zoom",
        "Download plot as a png": "Descargar gráfica como png",
        "Download plot": "Descargar gráfica",
        "Lasso Select": "Seleccionar con lazo",
        "Pan": "Desplazar",
        "Produced with Plotly.js": "Hecho con Plotly.js",
        "Reset axes": "Restaurar ejes",
        "Reset view": "Restaurar vista",
        "Show closest data on hover": "Mostrar el dato más cercano al pasar por encima",
        "Snapshot succeeded": "Imagen guardada",
        "Taking snapshot - this may take a few seconds": "Guardando imagen: puede tardar unos segundos",
        "Toggle Spike Lines": "Mostrar/ocultar líneas guía",
        "Zoom in": "Acercar",
        "Zoom out": "Alejar",
        "Zoom": "Zoom",
        "trace": "serie",
    },
    "format": {
        "days": [_WEEKDAYS["es"][-1], *_WEEKDAYS["es"][:-1]],  # Plotly weeks start on Sunday
        "shortDays": ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"],
        "months": list(_MONTHS["es"]),
        "shortMonths": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
        "date": "%d/%m/%Y",
        "decimal": ",",
        "thousands": ".",
    },
}


def graph_config(lang: str) -> dict[str, Any]:
    """The locale part of a dcc.Graph config for the language (English is Plotly's own)."""
    return {"locale": "es", "locales": {"es": ES}} if lang == "es" else {"locale": "en"}
