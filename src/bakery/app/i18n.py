"""Spanish and English texts of the app (Spanish by default), plus date and number formatting."""

from __future__ import annotations

from datetime import date
from typing import Any

DEFAULT_LANG = "es"
LANGS = ("es", "en")

_WEEKDAYS = {
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_MONTHS = {
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}

# key: (es, en)
TEXTS: dict[str, tuple[str, str]] = {
    "app.title": ("Previsión de ventas · Panaderías", "Bakery sales forecast"),
    "nav.forecast": ("Previsión", "Forecast"),
    "nav.history": ("Histórico", "History"),
    "nav.stock": ("Stock", "Stock"),
    "nav.events": ("Eventos y promociones", "Events & promotions"),
    "nav.metrics": ("Métricas", "Metrics"),
    "nav.waste": ("Mermas y ventas perdidas", "Waste and lost sales"),
    "nav.models": ("Modelos", "Models"),
    "nav.drivers": ("Factores", "Drivers"),
    "nav.uploads": ("Carga de datos", "Data upload"),
    "nav.users": ("Usuarios", "Users"),
    "nav.settings": ("Ajustes", "Settings"),
    "nav.health": ("Salud del sistema", "System health"),
    "nav.audit": ("Auditoría", "Audit log"),
    "nav.logout": ("Salir", "Log out"),
    "nav.mlflow": ("MLflow", "MLflow"),
    "nav.dashboards": ("Cuadros de mando en Databricks ↗", "Dashboards in Databricks ↗"),
    "nav.sql_dashboards": ("Cuadros de mando", "Dashboards"),
    "dsh.title": ("Cuadros de mando", "Dashboards"),
    "dsh.help": (
        "Los mismos cuadros de mando que Databricks SQL (dashboards/*.lvdash.json), calculados aquí sobre las tablas.",
        "The same dashboards as Databricks SQL (dashboards/*.lvdash.json), computed here over the tables.",
    ),
    "dsh.choose": ("Cuadro de mando", "Dashboard"),
    "dsh.none": ("No hay cuadros de mando.", "No dashboards."),
    "dsh.rows": (
        "Se muestran {shown} de {total} filas (todas en la exportación HTML).",
        "Showing {shown} of {total} rows (all of them in the HTML export).",
    ),
    "dsh.unsupported": (
        "Widget «{type}»: no se puede mostrar aquí.",
        "Widget '{type}' is not supported here.",
    ),
    "nav.menu": ("Menú", "Menu"),
    "nav.language": ("English", "Español"),
    "role.manager": ("Gerente de tienda", "Store manager"),
    "role.analyst": ("Analista", "Analyst"),
    "role.admin": ("Administrador", "Admin"),
    "common.store": ("Tienda", "Store"),
    "common.stores": ("Tiendas", "Stores"),
    "common.product": ("Producto", "Product"),
    "common.date": ("Fecha", "Date"),
    "common.horizon": ("Horizonte", "Horizon"),
    "common.chain": ("Toda la cadena", "Whole chain"),
    "common.all_products": ("Todos los productos", "All products"),
    "common.no_forecasts": (
        "Aún no hay previsiones: ejecute `bakery pipeline`.",
        "No forecasts yet: run `bakery pipeline`.",
    ),
    "common.no_data": ("Sin datos todavía.", "No data yet."),
    "common.forbidden": ("No tiene acceso a esta página.", "You do not have access to this page."),
    "common.not_found": ("Página no encontrada.", "Page not found."),
    "common.save": ("Guardar", "Save"),
    "common.saved": ("Guardado.", "Saved."),
    "common.units": ("uds.", "units"),
    "common.rows": ("filas", "rows"),
    "common.download": ("Descargar", "Download"),
    "common.days": ("días", "days"),
    "common.from": ("Desde", "From"),
    "common.to": ("Hasta", "To"),
    "common.none": ("Nada que mostrar.", "Nothing to show."),
    "common.status": ("Estado", "Status"),
    "common.choose": ("Elegir…", "Choose…"),
    "common.confirm": ("Confirmar", "Confirm"),
    "common.cancel": ("Cancelar", "Cancel"),
    "common.yes": ("sí", "yes"),
    "common.no": ("no", "no"),
    "h.1": ("Mañana (D+1)", "Tomorrow (D+1)"),
    "h.7": ("Próxima semana (D+7)", "Next week (D+7)"),
    "h.28": ("Próximos 28 días (D+28)", "Next 28 days (D+28)"),
    "h.n": ("D+{h}", "D+{h}"),
    # forecast page
    "fc.title": ("Previsión de ventas", "Sales forecast"),
    "fc.view.tomorrow": ("Mañana", "Tomorrow"),
    "fc.view.week": ("Próxima semana", "Next week"),
    "fc.view.month": ("Próximos 28 días", "Next 28 days"),
    "fc.as_of": (
        "Previsión calculada con datos hasta el {date} · modelo {model}",
        "Forecast made with data up to {date} · model {model}",
    ),
    "fc.col.forecast": ("Previsión", "Forecast"),
    "fc.col.why": ("Por qué", "Why"),
    "fc.col.last": ("Mismo día semana pasada", "Same day last week"),
    "fc.chart.actual": ("Ventas reales", "Actual sales"),
    "fc.chart.forecast": ("Previsión", "Forecast"),
    "fc.chart.interval": ("Intervalo", "Interval"),
    "fc.no_store": ("No hay tiendas asignadas a su cuenta.", "No stores are assigned to your account."),
    "fc.chain_total": ("Total cadena (uds.)", "Chain total (units)"),
    # explanations
    "explain.last_day": ("el {day} pasado", "last {day}"),
    "explain.last_days": ("los últimos {n} días", "the last {n} days"),
    "explain.expected": ("{value} uds. previstas", "{value} units expected"),
    "explain.usual": ("en línea con lo habitual", "in line with usual"),
    "explain.cold_start": (
        "Producto nuevo, a la venta desde el {day}: previsión a partir de productos parecidos",
        "New product, on sale from {day}: forecast from similar products",
    ),
    "explain.closed": (
        "Tienda cerrada previsiblemente (suele cerrar ese día)",
        "Store expected closed (it usually is on that day)",
    ),
    "explain.not_offered": (
        "Fuera de venta previsiblemente (no se vende desde hace semanas)",
        "Not expected on sale (not sold for weeks)",
    ),
    "comp.holidays": ("festivo", "public holiday"),
    "comp.school_holiday": ("vacaciones escolares", "school holidays"),
    "comp.promo": ("promoción", "promotion"),
    "comp.event": ("evento local", "local event"),
    "comp.rain": ("lluvia", "rain"),
    "comp.temperature": ("temperatura", "temperature"),
    "comp.humidity": ("humedad", "humidity"),
    "comp.wind": ("viento", "wind"),
    "comp.weather": ("tiempo", "weather"),
    "comp.yearly": ("temporada", "season"),
    "comp.trend": ("tendencia", "trend"),
    "comp.weekly": ("día de la semana", "day of week"),
    "comp.traffic": ("afluencia", "foot traffic"),
    "comp.stockout": ("rotura de stock", "stockout"),
    # history
    "hist.title": ("Ventas frente a previsiones pasadas", "Sales against past forecasts"),
    "hist.lead": ("Previsión hecha con", "Forecast made"),
    "hist.actual": ("Vendido", "Sold"),
    "hist.predicted": ("Previsto D+{h}", "Forecast D+{h}"),
    "hist.mae": ("Error medio (uds.)", "Mean error (units)"),
    "hist.wmape": ("wMAPE", "wMAPE"),
    "hist.bias": ("Sesgo", "Bias"),
    "hist.coverage": ("Dentro del intervalo", "Inside the interval"),
    "hist.pairs": ("Días comparados", "Days compared"),
    "hist.no_past": (
        "Todavía no hay previsiones pasadas para comparar.",
        "No past forecasts to compare with yet.",
    ),
    # stock
    "stock.title": ("Alertas de stock", "Stock alerts"),
    "stock.col.stock": ("Stock al cierre", "Closing stock"),
    "stock.col.forecast": ("Previsión mañana", "Tomorrow's forecast"),
    "stock.col.stockouts": ("Días agotado", "Days sold out"),
    "stock.col.severity": ("Gravedad", "Severity"),
    "stock.col.message": ("Aviso", "Alert"),
    "stock.msg.below_lower": (
        "No se repone a diario y lo que queda no cubre ni el escenario bajo del próximo día: pida o hornee más",
        "Not replenished daily, and what is left does not cover even the next day's low scenario: order or bake more",
    ),
    "stock.msg.below": (
        "No se repone a diario y lo que queda está por debajo de la previsión del próximo día",
        "Not replenished daily, and what is left is below the next day's forecast",
    ),
    "stock.msg.stockouts": (
        "Se agotó {n} de los últimos {days} días: se pierden ventas, hornee más",
        "Sold out on {n} of the last {days} days: sales are lost, bake more",
    ),
    "stock.none": ("Sin alertas de stock.", "No stock alerts."),
    "stock.no_inventory": ("Aún no hay datos de inventario.", "No inventory data yet."),
    "stock.as_of": ("Inventario al {date}", "Inventory as of {date}"),
    # events
    "ev.title": ("Eventos locales y promociones", "Local events and promotions"),
    "ev.intro": (
        "Lo que apunte aquí se tiene en cuenta en la próxima actualización diaria y mejora las previsiones de su "
        "tienda. Mientras esté pendiente, puede cambiarlo o borrarlo.",
        "What you enter here is taken into the next daily update and improves your store's forecasts. While it is "
        "pending you can change or delete it.",
    ),
    "ev.name": ("Nombre", "Name"),
    "ev.type": ("Tipo", "Type"),
    "ev.type.event": ("Evento local", "Local event"),
    "ev.type.promotion": ("Promoción", "Promotion"),
    "ev.type.holiday": ("Fiesta local", "Local holiday"),
    "ev.type.closure": ("Cierre", "Closure"),
    "ev.start": ("Desde", "From"),
    "ev.end": ("Hasta", "To"),
    "ev.submit": ("Añadir", "Add"),
    "ev.saved": (
        "Guardado «{name}»: se usará en la próxima actualización.",
        "Saved '{name}': used from the next update.",
    ),
    "ev.pending": ("pendiente de la próxima actualización", "pending the next update"),
    "ev.loaded": ("ya en las previsiones", "in the forecasts"),
    "ev.list": ("Eventos de sus tiendas", "Events of your stores"),
    "ev.err.name": ("Escriba un nombre (máx. 120 caracteres).", "Enter a name (at most 120 characters)."),
    "ev.err.dates": (
        "Indique fechas válidas (dd/mm/aaaa), con «desde» no posterior a «hasta» y de como mucho 60 días.",
        "Enter valid dates, 'from' not after 'to', at most 60 days.",
    ),
    "ev.err.store": ("Elija una de sus tiendas.", "Choose one of your stores."),
    "ev.err.type": ("Elija un tipo.", "Choose a type."),
    "ev.err.invalid": (
        "El evento no pasa la validación: {reason}",
        "The event did not pass validation: {reason}",
    ),
    # metrics
    "waste.title": ("Mermas y ventas perdidas", "Waste and lost sales"),
    "waste.help": (
        "Lo horneado, vendido y tirado, y las ventas perdidas por roturas de stock (la demanda estimada de un día "
        "agotado por encima de lo vendido), por tienda y producto, en unidades y euros. Las mermas se valoran al "
        "coste de horneado menos lo que se recupera; las ventas perdidas, al margen más el coste de perder al cliente.",
        "What was baked, sold and thrown away, and the sales lost to stock-outs (the estimated demand of a sold-out "
        "day beyond what was sold), per store and product, in units and euros. Waste is valued at the baking cost "
        "net of salvage; lost sales at the margin plus the cost of losing the customer.",
    ),
    "waste.period": ("Periodo", "Period"),
    "waste.measure": ("Medida", "Measure"),
    "waste.eur": ("Euros", "Euros"),
    "waste.units": ("Unidades", "Units"),
    "waste.over_time": ("Mermas y ventas perdidas por día", "Waste and lost sales per day"),
    "waste.by_store": ("Por tienda", "Per store"),
    "waste.compare": (
        "Lo que habría costado el plan frente a lo horneado",
        "What the plan would have cost against what was baked",
    ),
    "waste.lost": ("Ventas perdidas", "Lost sales"),
    "waste.kpi.waste": ("Mermas", "Waste"),
    "waste.kpi.lost": ("Margen perdido por roturas", "Margin lost to stock-outs"),
    "waste.kpi.share": ("Mermas sobre lo horneado", "Waste as a share of baked"),
    "waste.kpi.units": ("Uds. tiradas / perdidas", "Units wasted / lost"),
    "waste.col.baked": ("Horneado (uds.)", "Baked (units)"),
    "waste.col.sold": ("Vendido (uds.)", "Sold (units)"),
    "waste.col.wasted": ("Mermas (uds.)", "Waste (units)"),
    "waste.col.lost": ("Ventas perdidas (uds.)", "Lost sales (units)"),
    "waste.col.baked_eur": ("Coste horneado", "Baking cost"),
    "waste.col.sold_eur": ("Ventas", "Sales"),
    "waste.col.wasted_eur": ("Mermas (€)", "Waste (€)"),
    "waste.col.lost_eur": ("Margen perdido (€)", "Lost margin (€)"),
    "waste.period_text": ("Del {start} al {end}", "From {start} to {end}"),
    "waste.unknown_lost_1": (
        "1 día agotado sin estimación de la demanda: sus ventas perdidas no cuentan",
        "1 sold-out day without a demand estimate: its lost sales are not counted",
    ),
    "waste.unknown_lost": (
        "{n} días agotados sin estimación de la demanda: sus ventas perdidas no cuentan",
        "{n} sold-out days without a demand estimate: their lost sales are not counted",
    ),
    "waste.no_ledger": (
        "Aún no hay libro de mermas (gold.ledger). Se escribe cada noche, con el plan de horneado, a partir del "
        "inventario diario: carga el inventario y ejecuta la tubería nocturna.",
        "No waste ledger yet (gold.ledger). It is written each night with the bake plan from the daily inventory: "
        "load the inventory and run the nightly pipeline.",
    ),
    "waste.none_range": (
        "No hay datos de mermas para estas fechas, tienda y producto.",
        "No waste data for these dates, store and product.",
    ),
    "waste.span": (
        "El libro de mermas va del {start} al {end}.",
        "The waste ledger runs from {start} to {end}.",
    ),
    "waste.cmp.no_plan": (
        "No hay plan de horneado para estos días: la comparación necesita el plan que la tubería escribe cada "
        "noche (gold.bake_plan).",
        "No bake plan for these days: the comparison needs the plan the pipeline writes each night "
        "(gold.bake_plan).",
    ),
    "waste.cmp.no_overlap": (
        "Todavía no hay días con plan de horneado y con inventario real a la vez: la comparación aparece cuando "
        "llega el inventario de un día planificado.",
        "No day has both a bake plan and actual inventory yet: the comparison appears once a planned day's "
        "inventory arrives.",
    ),
    "waste.cmp.plan": ("Coste con el plan", "Cost with the plan"),
    "waste.cmp.actual": ("Coste de lo horneado", "Cost of what was baked"),
    "waste.cmp.saving": ("Ahorro con el plan", "Saving with the plan"),
    "waste.cmp.extra": ("Sobrecoste del plan", "Extra cost of the plan"),
    "waste.cmp.n": ("Días y productos comparados", "Product-days compared"),
    "waste.fva": (
        "¿Mejoran el plan los cambios de los encargados?",
        "Do the managers' changes improve the plan?",
    ),
    "waste.fva.none": (
        "Todavía no hay cambios del plan puntuados en estas fechas: un cambio se puntúa cuando llegan las ventas "
        "de su día.",
        "No scored changes to the plan on these days yet: a change is scored once its day's sales arrive.",
    ),
    "waste.fva.n": ("Cambios", "Changes"),
    "waste.fva.helped": ("Mejoraron el plan", "Improved on the plan"),
    "waste.fva.units": ("Valor añadido (uds.)", "Value added (units)"),
    "waste.fva.eur": ("Valor añadido (€)", "Value added (€)"),
    "waste.fva.by_user": ("Encargado", "Manager"),
    "waste.fva.by_reason": ("Motivo", "Reason"),
    "waste.fva.how": (
        "Valor añadido = coste del plan − coste de la cantidad cambiada, con la demanda del día (lo vendido más "
        "las ventas perdidas estimadas) y los costes de la fila del plan: positivo si el cambio ayudó.",
        "Value added = the plan's cost − the changed quantity's cost, against the day's demand (sold plus the "
        "estimated lost sales) at the plan row's costs: positive when the change helped.",
    ),
    "waste.cmp.how": (
        "Misma demanda para los dos (lo vendido más las ventas perdidas estimadas) y mismo stock de ayer; cada "
        "unidad sobrante cuesta su coste menos lo que se recupera y cada unidad que falta, su margen más el coste "
        "de perder al cliente, con los precios y costes de la fila del plan.",
        "The same demand for both (sold plus the estimated lost sales) and the same stock from the day before; each "
        "unit left over costs its cost net of salvage and each unit short its margin plus the cost of losing the "
        "customer, at the prices and costs of the plan row.",
    ),
    "waste.cmp.no_cost_model": (
        "(Sin el modelo de costes: solo margen y coste, sin recuperación ni coste de perder al cliente.)",
        "(Without the cost model: margin and cost only, no salvage or customer-loss cost.)",
    ),
    "waste.cmp.col.plan_waste": ("Mermas con el plan", "Waste with the plan"),
    "waste.cmp.col.plan_lost": ("Margen perdido con el plan", "Lost margin with the plan"),
    "waste.cmp.col.plan_cost": ("Total con el plan", "Total with the plan"),
    "waste.cmp.col.actual_waste": ("Mermas reales", "Actual waste"),
    "waste.cmp.col.actual_lost": ("Margen perdido real", "Actual lost margin"),
    "waste.cmp.col.actual_cost": ("Total real", "Actual total"),
    "met.title": ("Métricas del modelo", "Model metrics"),
    "met.metric": ("Métrica", "Metric"),
    "met.level": ("Ámbito", "Scope"),
    "met.global": ("Global", "Global"),
    "met.by_store": ("Por tienda", "Per store"),
    "met.model": ("Modelo", "Model"),
    "met.baseline": ("referencia", "baseline"),
    "met.gain": ("Mejora vs referencia", "Gain vs baseline"),
    "met.none": (
        "Aún no hay métricas: se calculan en el backtest del pipeline.",
        "No metrics yet: the pipeline's backtest computes them.",
    ),
    "met.evaluated": ("Evaluado el {date}", "Evaluated on {date}"),
    "met.help": (
        "Error en unidades (MAE, RMSE) y en % (MAPE, wMAPE); sesgo > 0 = sobreestima. Siempre junto a la "
        "referencia «mismo día de la semana pasada».",
        "Error in units (MAE, RMSE) and % (MAPE, wMAPE); bias > 0 = over-forecasting. Always beside the "
        "'same day last week' baseline.",
    ),
    # models
    "mod.title": ("Versiones del modelo", "Model versions"),
    "mod.role": ("Papel", "Role"),
    "mod.version": ("Versión", "Version"),
    "mod.series": ("Series", "Series"),
    "mod.role.champion": ("campeón", "champion"),
    "mod.role.challenger": ("aspirante", "challenger"),
    "mod.role.shadow": ("sombra", "shadow"),
    "mod.compare": ("Comparación de versiones para una serie", "Versions side by side for one series"),
    # drivers
    "drv.title": ("Qué impulsa las previsiones", "What drives the forecasts"),
    "drv.intro": (
        "Contribución media de cada factor a la previsión diaria (uds.), en la última ejecución.",
        "Average contribution of each factor to the daily forecast (units), in the latest run.",
    ),
    "drv.mean_abs": ("Contribución media absoluta", "Mean absolute contribution"),
    "drv.mean": ("Contribución media", "Mean contribution"),
    "drv.factor": ("Factor", "Factor"),
    # health
    "hl.title": ("Salud del sistema y del pipeline", "System and pipeline health"),
    "hl.runs": ("Últimas ejecuciones", "Last runs"),
    "hl.job": ("Trabajo", "Job"),
    "hl.started": ("Inicio", "Started"),
    "hl.seconds": ("Duración (s)", "Duration (s)"),
    "hl.message": ("Mensaje", "Message"),
    "hl.failures": ("Fallos (últimas 50 ejecuciones)", "Failures (last 50 runs)"),
    "hl.quarantine": ("Filas en cuarentena", "Quarantined rows"),
    "hl.rule": ("Regla", "Rule"),
    "hl.source": ("Fuente", "Source"),
    "hl.dq": ("Fallos de calidad de datos", "Data-quality failures"),
    "hl.freshness": ("Frescura de los datos", "Data freshness"),
    "hl.latest_sales": ("Últimas ventas", "Latest sales"),
    "hl.latest_forecast": ("Última previsión", "Latest forecast"),
    "hl.tables": ("Versiones de tablas", "Table versions"),
    "hl.retrain": ("Reentrenamiento solicitado", "Retraining requested"),
    # audit
    "au.title": ("Registro de auditoría", "Audit log"),
    "au.at": ("Cuándo", "When"),
    "au.actor": ("Quién", "Who"),
    "au.action": ("Acción", "Action"),
    "au.target": ("Objeto", "Target"),
    "au.ok": ("Correcto", "OK"),
    "au.ip": ("IP", "IP"),
    "au.detail": ("Detalle", "Detail"),
    "au.filter_action": ("Filtrar por acción", "Filter by action"),
    "au.filter_actor": ("Filtrar por usuario", "Filter by user"),
    "au.total": ("{n} registros", "{n} records"),
    "au.more": ("Más", "More"),
    # users
    "usr.title": ("Usuarios y permisos", "Users and roles"),
    "usr.username": ("Usuario", "User name"),
    "usr.role": ("Rol", "Role"),
    "usr.stores": ("Tiendas (gerentes)", "Stores (managers)"),
    "usr.password": ("Contraseña nueva", "New password"),
    "usr.active": ("Activo", "Active"),
    "usr.add": ("Crear usuario", "Create user"),
    "usr.update": ("Guardar cambios", "Save changes"),
    "usr.created": ("Usuario {name} creado.", "User {name} created."),
    "usr.updated": ("Usuario {name} actualizado.", "User {name} updated."),
    "usr.edit": ("Modificar un usuario", "Change a user"),
    "usr.keep_password": ("vacío = sin cambios", "empty = unchanged"),
    # settings
    "set.title": ("Ajustes globales", "Global settings"),
    "set.key": ("Ajuste", "Setting"),
    "set.value": ("Valor", "Value"),
    "set.default": ("Por defecto", "Default"),
    "set.by": ("Cambiado por", "Changed by"),
    "set.upload_max_error_rate": (
        "Proporción máxima de filas erróneas para una carga parcial (0-1)",
        "Largest share of bad rows for a partial load (0-1)",
    ),
    "set.retrain_fraction": (
        "Reentrenar si una carga añade más de esta fracción del histórico (0-1)",
        "Retrain when an upload adds more than this share of the history (0-1)",
    ),
    "set.stock_alert_ratio": (
        "Alerta si stock < previsión × este factor",
        "Alert when stock < forecast × this factor",
    ),
    "set.stockout_lookback_days": ("Días revisados para roturas de stock", "Days checked for stockouts"),
    "set.default_language": ("Idioma por defecto (es/en)", "Default language (es/en)"),
    # uploads
    "up.title": ("Carga de datos históricos", "Historical data upload"),
    "up.intro": (
        "CSV o Excel (.xlsx), hasta {mb} MiB. Descargue la plantilla, arrastre su archivo, revise el mapeo "
        "de columnas y la vista previa, valide y cargue. Fechas AAAA-MM-DD.",
        "CSV or Excel (.xlsx), up to {mb} MiB. Download the template, drop your file, check the column "
        "mapping and preview, validate, then load. Dates YYYY-MM-DD.",
    ),
    "up.step1": ("1 · Tipo de datos y plantilla", "1 · Kind of data and template"),
    "up.step2": ("2 · Archivo", "2 · File"),
    "up.step3": ("3 · Mapeo de columnas y vista previa", "3 · Column mapping and preview"),
    "up.step4": ("4 · Validación y carga", "4 · Validation and load"),
    "up.kind": ("Tipo", "Kind"),
    "up.template": ("Plantilla", "Template"),
    "up.drop": (
        "Arrastre aquí un archivo CSV/XLSX o haga clic para elegirlo",
        "Drop a CSV/XLSX file here or click to choose one",
    ),
    "up.shape": (
        "Avanzado: archivo con un artículo por fila o un producto por columna",
        "Advanced: file with one item per row or one product per column",
    ),
    "up.shape_help": (
        "Describa la forma en JSON (véase la guía de usuario). Se convierte a ventas diarias antes "
        "de validar.",
        "Describe the shape as JSON (see the user guide). It is turned into daily sales before validation.",
    ),
    "up.shape_apply": ("Aplicar forma", "Apply shape"),
    "up.file_ok": ("Archivo «{name}» leído: {rows} filas.", "File '{name}' read: {rows} rows."),
    "up.file_rejected": ("Archivo rechazado: {reason}", "File rejected: {reason}"),
    "up.not_loaded": ("No se ha cargado nada: {reason}", "Nothing was loaded: {reason}"),
    "up.not_deleted": ("No se ha borrado nada: {reason}", "Nothing was deleted: {reason}"),
    "up.template_col": ("Columna de la plantilla", "Template column"),
    "up.file_col": ("Columna del archivo", "File column"),
    "up.unmapped": ("(ninguna)", "(none)"),
    "up.how.name": ("por nombre", "by name"),
    "up.how.synonym": ("por sinónimo", "by synonym"),
    "up.how.mapping": ("elegida", "chosen"),
    "up.ignored": ("Columnas ignoradas: {cols}", "Ignored columns: {cols}"),
    "up.preview": ("Vista previa ({n} filas en total)", "Preview ({n} rows in all)"),
    "up.duplicates": ("Duplicados con datos guardados", "Duplicates of stored data"),
    "up.dup.skip": ("omitir", "skip"),
    "up.dup.overwrite": ("sobrescribir", "overwrite"),
    "up.max_rate": ("Máx. proporción de filas erróneas", "Max share of bad rows"),
    "up.replaces": ("Sustituye al lote (opcional)", "Replaces batch (optional)"),
    "up.validate": ("Validar", "Validate"),
    "up.load": ("Cargar", "Load"),
    "up.confirm_load": (
        "¿Cargar este archivo? Las filas válidas entrarán en la próxima ejecución.",
        "Load this file? Its valid rows enter the next run.",
    ),
    "up.check_ok": ("Validación correcta: {reason}", "Validation passed: {reason}"),
    "up.check_bad": ("La carga sería rechazada: {reason}", "The load would be rejected: {reason}"),
    "up.accepted": ("Cargado: {reason}", "Loaded: {reason}"),
    "up.rejected_all": (
        "Rechazado, no se ha guardado nada: {reason}",
        "Rejected, nothing was stored: {reason}",
    ),
    "up.rate": ("{rate} % de filas erróneas (límite {limit} %)", "{rate}% bad rows (limit {limit}%)"),
    "up.bad_rate": ("La proporción máxima debe estar entre 0 y 1.", "The max share must be between 0 and 1."),
    "up.valid": ("Válidas", "Valid"),
    "up.invalid": ("Con errores", "With errors"),
    "up.dups": ("Duplicadas", "Duplicates"),
    "up.bad_rows": ("Descargar filas erróneas", "Download bad rows"),
    "up.no_errors": ("Sin errores.", "No errors."),
    "up.row": ("Fila", "Row"),
    "up.line": ("Línea", "Line"),
    "up.column": ("Columna", "Column"),
    "up.reason": ("Motivo", "Reason"),
    "up.no_file": ("Primero suba un archivo.", "Upload a file first."),
    "up.batches": ("Lotes cargados", "Loaded batches"),
    "up.batch": ("Lote", "Batch"),
    "up.file": ("Archivo", "File"),
    "up.loaded": ("Cargadas", "Loaded"),
    "up.rejected": ("Rechazadas", "Rejected"),
    "up.delete": ("Borrar lote", "Delete batch"),
    "up.confirm_delete": (
        "¿Borrar este lote? Sus filas dejarán de usarse y se pedirá reentrenar el modelo.",
        "Delete this batch? Its rows stop being used and retraining is requested.",
    ),
    "up.deleted": (
        "Lote {batch} borrado (recuperable); se reentrenará el modelo.",
        "Batch {batch} deleted (recoverable); the model will be retrained.",
    ),
    "up.retrain": ("Pedir reentrenamiento", "Request retraining"),
    "up.retrain_flagged": (
        "Se ha pedido reentrenar el modelo en la próxima ejecución.",
        "Retraining was requested for the next run.",
    ),
    "up.status.accepted": ("cargado", "loaded"),
    "up.status.rejected": ("rechazado", "rejected"),
    "up.status.deleted": ("borrado", "deleted"),
    "up.status.replaced": ("sustituido", "replaced"),
    # login
    "login.title": ("Iniciar sesión", "Sign in"),
    "login.username": ("Usuario", "User name"),
    "login.password": ("Contraseña", "Password"),
    "login.submit": ("Entrar", "Sign in"),
    "login.invalid": ("Usuario o contraseña incorrectos.", "Wrong user name or password."),
    "login.locked": (
        "Demasiados intentos fallidos. Inténtelo de nuevo en {minutes} min.",
        "Too many failed attempts. Try again in {minutes} min.",
    ),
    "login.throttled": (
        "Demasiados intentos desde esta dirección. Espere {seconds} s.",
        "Too many attempts from this address. Wait {seconds} s.",
    ),
    "login.csrf": ("El formulario caducó. Vuelva a intentarlo.", "The form expired. Please try again."),
    "login.unregistered": (
        "Su cuenta no está dada de alta en la aplicación. Pida acceso a un administrador.",
        "Your account is not registered in the app. Ask an admin for access.",
    ),
    # ---- analyst and admin pages (uploads, users, metrics, models, health, audit) ----------------------
    "up.rate_within": (
        "{rate} de filas con errores, dentro del límite del {limit}.",
        "{rate} of rows with errors, within the {limit} limit.",
    ),
    "up.rate_over": (
        "{rate} de filas con errores, más que el límite del {limit}. Corrija el archivo o suba el límite.",
        "{rate} of rows with errors, more than the {limit} limit. Fix the file or raise the limit.",
    ),
    "up.no_batches": ("Todavía no hay lotes cargados.", "No loaded batches yet."),
    "up.other_batches": (
        "Lotes rechazados, borrados o sustituidos ({n})",
        "Rejected, deleted or replaced batches ({n})",
    ),
    "up.choose_batch": ("Elija primero un lote.", "Choose a batch first."),
    "up.not_deletable": (
        "el lote {batch} ya no está cargado (se borró o sustituyó antes).",
        "batch {batch} is no longer loaded (it was deleted or replaced before).",
    ),
    "up.record_failed": (
        "no se pudo guardar el cambio en el registro de cargas; inténtelo más tarde.",
        "the change could not be saved in the upload log; try again later.",
    ),
    "up.restore_batch": ("Lote borrado", "Deleted batch"),
    "up.restore": ("Restaurar lote", "Restore batch"),
    "up.restored": (
        "Lote {batch} restaurado como lote {new}; sus filas vuelven en la próxima ejecución y se reentrenará "
        "el modelo.",
        "Batch {batch} restored as batch {new}; its rows come back in the next run and the model will be "
        "retrained.",
    ),
    "up.not_restorable": (
        "No se puede restaurar el lote {batch}: no está borrado, ya se restauró o sus filas ya no se guardan.",
        "Batch {batch} cannot be restored: it is not deleted, was restored already or its rows are no "
        "longer kept.",
    ),
    "up.not_restored": ("No se ha restaurado nada: {reason}", "Nothing was restored: {reason}"),
    "up.kindname.sales": ("Ventas diarias (sales)", "Daily sales (sales)"),
    "up.kindname.pos": ("Tickets de caja (pos)", "Till receipts (pos)"),
    "up.kindname.inventory": ("Inventario (inventory)", "Inventory (inventory)"),
    "up.kindname.stores": ("Tiendas (stores)", "Stores (stores)"),
    "up.kindname.products": ("Productos (products)", "Products (products)"),
    "up.kindname.weather": ("Tiempo (weather)", "Weather (weather)"),
    "up.kindname.traffic": ("Afluencia (traffic)", "Footfall (traffic)"),
    "up.kindname.events": ("Eventos (events)", "Events (events)"),
    "up.kindname.ingredients": ("Ingredientes (ingredients)", "Ingredients (ingredients)"),
    "up.status.restored": ("borrado, restaurado como {batch}", "deleted, restored as {batch}"),
    "usr.stores_pick": ("Elija tiendas (p. ej. S001)", "Choose stores (e.g. S001)"),
    "usr.all_stores": ("todas", "all"),
    "usr.err.name": (
        "Usuario «{name}»: use de 1 a 200 letras minúsculas, cifras o . _ @ + - (empezando por letra o cifra).",
        "User name '{name}': use 1-200 lower-case letters, digits or . _ @ + - (starting with a letter or "
        "digit).",
    ),
    "usr.err.exists": ("Ya existe un usuario «{name}».", "A user '{name}' already exists."),
    "usr.err.no_user": ("No existe el usuario «{name}».", "There is no user '{name}'."),
    "usr.err.store_format": (
        "Tienda «{store}»: no es un código de tienda válido (p. ej. S001).",
        "Store '{store}': not a valid store id (e.g. S001).",
    ),
    "usr.err.unknown_store": (
        "Tienda «{store}»: no existe en la tabla de tiendas. Tiendas conocidas: {known}.",
        "Store '{store}': not in the stores table. Known stores: {known}.",
    ),
    "usr.err.role": ("Rol «{role}»: elija gerente, analista o administrador.", "Role '{role}': choose one."),
    "usr.err.manager_stores": (
        "Un gerente necesita al menos una tienda.",
        "A store manager needs at least one store.",
    ),
    "usr.err.password_short": (
        "La contraseña debe tener al menos {n} caracteres.",
        "The password needs at least {n} characters.",
    ),
    "usr.err.password_long": (
        "La contraseña puede tener como mucho 1024 caracteres.",
        "The password may have at most 1024 characters.",
    ),
    "usr.err.self_admin": (
        "No puede quitarse a sí mismo el rol de administrador ni desactivarse.",
        "You cannot remove your own admin role or disable yourself.",
    ),
    "model.champion": ("Modelo en servicio", "Model in service"),
    "model.challenger": ("Modelo aspirante", "Challenger model"),
    "model.shadow": ("Modelo en pruebas", "Shadow model"),
    "model.seasonal_naive": ("Referencia: mismo día de la semana anterior", "Baseline: same day last week"),
    "model.weekday_profile": ("Perfil por día de la semana", "Weekday profile"),
    "model.prophet": ("Prophet (tendencia y estacionalidad)", "Prophet (trend and seasonality)"),
    "model.prophet_default": ("Prophet sin ajustar", "Prophet, default settings"),
    "model.lgbm": ("LightGBM (árboles de decisión)", "LightGBM (decision trees)"),
    "model.lightgbm": ("LightGBM (árboles de decisión)", "LightGBM (decision trees)"),
    "model.global_lgbm": ("LightGBM global (árboles de decisión)", "Global LightGBM (decision trees)"),
    "model.closed": ("Tienda cerrada (previsión 0)", "Store closed (forecast 0)"),
    "model.ensemble": ("Combinación de modelos", "Model ensemble"),
    "model.baseline_mark": ("(referencia)", "(baseline)"),
    "met.gain_unit": (
        "Mejora vs referencia (puntos de wMAPE; + = mejor)",
        "Gain vs baseline (wMAPE points; + = better)",
    ),
    "met.by_store_h": ("Por tienda · horizonte D+{h}", "Per store · horizon D+{h}"),
    "met.evaluated_cutoff": (
        "Evaluado con datos hasta el {cutoff} (calculado el {run}).",
        "Evaluated on data up to {cutoff} (computed on {run}).",
    ),
    "met.n": ("Previsiones evaluadas", "Forecasts evaluated"),
    "mod.not_served": (
        "Series sin previsión de modelo (producto no ofrecido o tienda cerrada): {n} filas con 0.",
        "Series without a model forecast (product not offered or store closed): {n} rows at 0.",
    ),
    "hl.stale": (
        "Atención: las últimas ventas son del {date}, hace {days} días (aviso a partir de {limit}). "
        "Las previsiones se basan en datos antiguos: cargue las ventas que faltan.",
        "Warning: the latest sales are from {date}, {days} days ago (warning from {limit}). Forecasts rest on "
        "old data: upload the missing sales.",
    ),
    "hl.fresh": (
        "Ventas al día: las últimas son del {date}.",
        "Sales are up to date: the latest are from {date}.",
    ),
    "hl.check": ("Comprobación que falló", "Check that failed"),
    "hl.column": ("Columna", "Column"),
    "hl.runs_help": (
        "Cada punto es una ejecución; en rojo, las que fallaron.",
        "Each dot is one run; failed runs in red.",
    ),
    "hl.run.success": ("correcta", "succeeded"),
    "hl.run.failed": ("fallida", "failed"),
    "hl.run.running": ("en curso", "running"),
    "sev.CRITICAL": ("crítica", "critical"),
    "sev.WARNING": ("aviso", "warning"),
    "sev.INFO": ("información", "information"),
    "dq.expect_column_values_to_be_between": ("valores dentro de su rango", "values within their range"),
    "dq.expect_column_values_to_not_be_null": ("ningún valor vacío", "no empty values"),
    "dq.expect_column_values_to_be_in_set": ("solo valores permitidos", "only allowed values"),
    "dq.expect_column_values_to_be_unique": ("valores sin repetir", "no repeated values"),
    "dq.expect_compound_columns_to_be_unique": ("una sola fila por clave", "one row per key"),
    "dq.expect_column_values_to_match_regex": (
        "valores con el formato esperado",
        "values in the expected format",
    ),
    "dq.expect_column_values_to_be_of_type": ("tipo de dato correcto", "correct data type"),
    "dq.expect_column_values_to_be_in_type_list": ("tipo de dato correcto", "correct data type"),
    "dq.expect_column_to_exist": ("la columna existe", "the column exists"),
    "dq.expect_table_columns_to_match_set": ("las columnas esperadas", "the expected columns"),
    "dq.expect_table_columns_to_match_ordered_list": (
        "las columnas esperadas, en orden",
        "the expected columns, in order",
    ),
    "dq.expect_table_column_count_to_equal": ("el número de columnas esperado", "the expected column count"),
    "dq.expect_column_pair_values_a_to_be_greater_than_b": (
        "una columna mayor que la otra",
        "one column greater than the other",
    ),
    "rule.not_null": ("valor vacío", "empty value"),
    "rule.type": ("tipo de dato incorrecto", "wrong data type"),
    "rule.range": ("fuera de rango", "out of range"),
    "rule.values": ("valor no permitido", "value not allowed"),
    "rule.pattern": ("formato incorrecto", "wrong format"),
    "rule.timezone": ("zona horaria desconocida", "unknown time zone"),
    "rule.future_date": ("fecha futura", "future date"),
    "rule.malformed_row": ("línea ilegible", "unreadable line"),
    "rule.unknown_store": ("tienda desconocida", "unknown store"),
    "rule.unknown_product": ("producto desconocido", "unknown product"),
    "rule.too_long": ("texto demasiado largo", "text too long"),
    "rule.id": ("código con salto de línea o tabulador", "id with a line break or tab"),
    "rule.subdivision": ("región desconocida", "unknown region"),
    "rule.date_order": ("fin antes del inicio", "end before start"),
    "rule.duplicate_conflict": ("clave repetida con otros valores", "repeated key with other values"),
    "up.problem": ("Problema", "Problem"),
    "up.value": ("Valor", "Value"),
    "up.detail": ("Detalle", "Detail"),
    "act.login.ok": ("Inicio de sesión", "Signed in"),
    "act.login.failed": ("Inicio de sesión fallido", "Failed sign-in"),
    "act.login.throttled": (
        "Inicio de sesión frenado (demasiados intentos)",
        "Sign-in slowed (too many tries)",
    ),
    "act.login.locked": ("Inicio de sesión bloqueado", "Sign-in locked"),
    "act.logout": ("Cierre de sesión", "Signed out"),
    "act.access.denied": ("Acceso denegado", "Access denied"),
    "act.token.issued": ("Token de API emitido", "API token issued"),
    "act.token.revoked": ("Tokens de API revocados", "API tokens revoked"),
    "act.user.created": ("Usuario creado", "User created"),
    "act.user.role_changed": ("Rol o tiendas cambiados", "Role or stores changed"),
    "act.user.enabled": ("Usuario activado", "User enabled"),
    "act.user.disabled": ("Usuario desactivado", "User disabled"),
    "act.user.password_changed": ("Contraseña cambiada", "Password changed"),
    "act.user.unlocked": ("Usuario desbloqueado", "User unlocked"),
    "act.setting.changed": ("Ajuste cambiado", "Setting changed"),
    "act.upload.accepted": ("Archivo cargado", "File loaded"),
    "act.upload.rejected": ("Archivo rechazado", "File rejected"),
    "act.upload.deleted": ("Lote borrado", "Batch deleted"),
    "act.upload.replaced": ("Lote sustituido", "Batch replaced"),
    "act.upload.restored": ("Lote restaurado", "Batch restored"),
    "act.upload.retrain_requested": ("Reentrenamiento pedido", "Retraining requested"),
    "act.event.created": ("Evento creado", "Event created"),
    "act.event.updated": ("Evento modificado", "Event changed"),
    "act.event.deleted": ("Evento borrado", "Event deleted"),
    "act.gdpr.exported": ("Datos personales exportados", "Personal data exported"),
    "det.role": ("rol", "role"),
    "det.stores": ("tiendas", "stores"),
    "det.changes": ("cambios", "changes"),
    "det.kind": ("tipo", "kind"),
    "det.file": ("archivo", "file"),
    "det.rows": ("filas", "rows"),
    "det.loaded": ("cargadas", "loaded"),
    "det.rejected": ("rechazadas", "rejected"),
    "det.reason": ("motivo", "reason"),
    "det.replaces": ("sustituye a", "replaces"),
    "det.replaced_by": ("sustituido por", "replaced by"),
    "det.restored_from": ("restaurado de", "restored from"),
    "det.count": ("cantidad", "count"),
    "det.key": ("ajuste", "setting"),
    "det.old": ("antes", "before"),
    "det.new": ("ahora", "now"),
    "det.path": ("ruta", "path"),
    "det.store_id": ("tienda", "store"),
    "det.active": ("activo", "active"),
    "det.channel": ("canal", "channel"),
    "hl.table": ("Tabla", "Table"),
    "hl.version": ("Versión", "Version"),
    "hl.kpi_sales_age": ("Antigüedad de las ventas", "Age of the sales"),
    "hl.days_old": ("{n} días", "{n} days"),
    "au.group.login": ("Inicios de sesión", "Sign-ins"),
    "au.group.logout": ("Cierres de sesión", "Sign-outs"),
    "au.group.token": ("Tokens de API", "API tokens"),
    "au.group.user": ("Usuarios", "Users"),
    "au.group.setting": ("Ajustes", "Settings"),
    "au.group.upload": ("Cargas de datos", "Data uploads"),
    "au.group.event": ("Eventos", "Events"),
    "au.group.access": ("Accesos denegados", "Denied access"),
    "det.arrow": ("{old} → {new}", "{old} → {new}"),
}

# ---- store manager pages: dated horizons, freshness, reasons, stock cards, events -----------------------
TEXTS.update(
    {
        "hist.period": ("Periodo", "Period"),
        "hist.weeks": ("Últimas {n} semanas", "Last {n} weeks"),
        "hist.range": ("Del {start} al {end}", "From {start} to {end}"),
        "hist.predicted_bt": (
            "Previsto con {h}+ días de antelación (backtest)",
            "Forecast {h}+ days ahead (backtest)",
        ),
        "hist.backtest": (
            "Aún no hay previsiones servidas para estas fechas: se muestran las del backtest, hechas fuera de "
            "muestra (el modelo solo vio las ventas hasta cada fecha de corte) con al menos {h} días de "
            "antelación; cada día, la hecha más cerca de él.",
            "No served forecasts for these dates yet: showing the backtest's, made out of sample (the model "
            "saw only the sales up to each cutoff) at least {h} days ahead; for each day, the one made closest "
            "to it.",
        ),
        "stock.sev.CRITICAL": ("Urgente", "Urgent"),
        "stock.sev.WARNING": ("Atención", "Attention"),
        "stock.col.forecast_day": ("Previsión {day}", "Forecast {day}"),
        "stock.count": (
            "{n} de {total} productos necesitan atención",
            "{n} of {total} products need attention",
        ),
        "ev.date_format": ("dd/mm/aaaa", "dd/mm/yyyy"),
        "ev.edit": ("Cambiar", "Change"),
        "ev.delete": ("Borrar", "Delete"),
        "ev.update": ("Guardar cambios", "Save changes"),
        "ev.editing": (
            "Cambiando «{name}»: corrija el formulario y pulse «Guardar cambios».",
            "Changing '{name}': correct the form and press 'Save changes'.",
        ),
        "ev.updated": (
            "Cambiado «{name}»: se usará en la próxima actualización.",
            "Changed '{name}': used from the next update.",
        ),
        "ev.deleted": ("Borrado «{name}».", "Deleted '{name}'."),
        "ev.duplicate": (
            "«{name}» ya está apuntado para esa tienda y esas fechas: no se ha guardado otra vez.",
            "'{name}' is already entered for that store and those dates: it was not saved again.",
        ),
        "ev.err.not_pending": (
            "Ese evento ya se ha tenido en cuenta y no se puede cambiar ni borrar.",
            "That event has already been taken in and can no longer be changed or deleted.",
        ),
        "fc.view.today": ("Hoy", "Today"),
        "fc.view.d1": ("1 día", "1 day"),
        "fc.view.d7": ("7 días", "7 days"),
        "fc.view.d28": ("28 días", "28 days"),
        "fc.for.tomorrow": ("Previsión para mañana, {day}", "Forecast for tomorrow, {day}"),
        "fc.for.today": ("Previsión para hoy, {day}", "Forecast for today, {day}"),
        "fc.for.day": ("Previsión para el {day}", "Forecast for {day}"),
        "fc.for.range_today": (
            "Previsión de hoy, {start}, al {end}",
            "Forecast from today, {start}, to {end}",
        ),
        "fc.for.range": ("Previsión del {start} al {end}", "Forecast from {start} to {end}"),
        "fc.for.range_tomorrow": (
            "Previsión de mañana, {start}, al {end}",
            "Forecast from tomorrow, {start}, to {end}",
        ),
        "fc.stale": (
            "Atención: esta previsión no es de hoy. Se calculó con ventas hasta el {as_of} (hace {days} días), "
            "así que sus fechas no empiezan mañana. Faltan datos recientes o la ejecución diaria no se ha hecho: "
            "avise al responsable de datos.",
            "Warning: this forecast is not current. It was made with sales up to {as_of} ({days} days ago), "
            "so its dates do not start tomorrow. Recent data is missing or the daily run did not happen: "
            "tell whoever looks after the data.",
        ),
        "fc.degraded": (
            "Previsión hecha con datos incompletos: las ventas de {stores} llegan solo hasta el {last}.",
            "Forecast made from incomplete data: the sales of {stores} only reach {last}.",
        ),
        "fc.degraded_none": (
            "Previsión hecha con datos incompletos: no hay ventas recientes de {stores}.",
            "Forecast made from incomplete data: no recent sales of {stores}.",
        ),
        "fc.total_product": ("Total de {product} · {period}", "{product} total · {period}"),
        "fc.total_all": (
            "Total de todos los productos ({unit}) · {period}",
            "All products ({unit}) · {period}",
        ),
        "fc.units_differ": (
            "No se suma todo: los productos se venden en unidades distintas ({units}). El total es el de {product}; "
            "elija otro producto para ver el suyo.",
            "No grand total: the products are sold in different units ({units}). The total shown is {product}'s; "
            "pick another product to see its own.",
        ),
        "fc.units_differ_pick": (
            "No se suma todo: los productos se venden en unidades distintas ({units}). Elija un producto para ver "
            "su total.",
            "No grand total: the products are sold in different units ({units}). Pick a product to see its total.",
        ),
        "fc.plan_qty": ("Hornear {n}", "Bake {n}"),
        "unit.unit": ("uds.", "units"),
        "unit.kg": ("kg", "kg"),
        "unit.portion": ("porciones", "portions"),
        "explain.pct_vs": ("{change} % vs. {ref}", "{change}% vs {ref}"),
        "explain.no_driver": (
            "sin un motivo especial (festivo, promoción, tiempo)",
            "no special reason (holiday, promotion, weather)",
        ),
        "explain.nothing": ("No se esperan ventas", "No sales expected"),
        "reason.prefix": (
            "Previsión de referencia (mismo día de la semana anterior)",
            "Reference forecast (same day of the previous week)",
        ),
        "reason.too_short": (
            "solo hay {days} días con ventas y el modelo necesita {minimum}",
            "only {days} days with sales and the model needs {minimum}",
        ),
        "reason.too_short_gap": (
            "solo hay {days} días con ventas desde una interrupción y el modelo necesita {minimum}",
            "only {days} days with sales since a break and the model needs {minimum}",
        ),
        "reason.stale": (
            "la última venta registrada es de hace {days} días",
            "the last recorded sale was {days} days ago",
        ),
        "reason.too_sparse": (
            "solo se vende el {share} % de los días",
            "it sells on only {share}% of days",
        ),
        "reason.all_zero": ("no consta ninguna venta en su historial", "its history has no sale"),
        "reason.no_history": ("aún no hay ventas registradas", "no sales recorded yet"),
        "reason.error": (
            "el modelo no pudo calcularse para este producto; el equipo de datos tiene el detalle",
            "the model could not be computed for this product; the data team has the details",
        ),
    }
)

# Upload problems for a Spanish user (bakery.app.upload_messages); English users see the ingest's own wording.
TEXTS.update(
    {
        "upmsg.missing_columns": (
            "faltan columnas obligatorias: {missing} (columnas del archivo: {found}). Renómbrelas o elija la "
            "columna de cada una abajo.",
            "missing required columns: {missing} (file columns: {found})",
        ),
        "upmsg.none": ("ninguna", "none"),
        "upmsg.no_rows": ("el archivo no tiene filas de datos.", "the file has no data rows"),
        "upmsg.mapping": (
            "la asignación de columnas no es válida (una columna elegida dos veces o que no existe); revísela "
            "abajo.",
            "the column mapping is not valid",
        ),
        "upmsg.unsupported_format": (
            "tipo de archivo no admitido ({suffix}); use CSV, XLSX, JSON o Parquet.",
            "unsupported file type ({suffix}); use CSV, XLSX, JSON or Parquet.",
        ),
        "upmsg.unreadable_line": (
            "no se puede leer el CSV cerca de la línea {line}; revise comillas y separadores.",
            "the CSV cannot be read near line {line}",
        ),
        "upmsg.unreadable": (
            "el archivo está dañado o no es del tipo que dice su extensión.",
            "the file is corrupt or not of the type its extension says",
        ),
        "upmsg.empty": ("el archivo está vacío o no tiene fila de cabecera.", "the file is empty"),
        "upmsg.no_header": ("el archivo no tiene fila de cabecera.", "the file has no header line"),
        "upmsg.binary": (
            "no es un archivo de texto; guárdelo como CSV UTF-8 o súbalo como XLSX.",
            "not a text file",
        ),
        "upmsg.encoding": (
            "el texto no está en UTF-8 ni en Windows-1252; guárdelo como CSV UTF-8.",
            "the text is neither UTF-8 nor Windows-1252",
        ),
        "upmsg.utf16": ("el texto está en UTF-16/UTF-32; guárdelo como CSV UTF-8.", "the text is UTF-16/32"),
        "upmsg.zip_bomb": (
            "el libro XLSX se expandiría demasiado al abrirlo; no se abre.",
            "the XLSX workbook would expand too much",
        ),
        "upmsg.too_many_rows": (
            "el archivo tiene demasiadas filas ({count}); el límite es {limit}. Divídalo en varios.",
            "too many rows ({count}); the limit is {limit}",
        ),
        "upmsg.too_many_columns": (
            "el archivo tiene demasiadas columnas ({count}); el límite es {limit}.",
            "too many columns ({count}); the limit is {limit}",
        ),
        "upmsg.too_large_decoded": (
            "el texto del archivo supera el límite de {limit} bytes una vez descomprimido.",
            "the decoded text exceeds {limit} bytes",
        ),
        "upmsg.too_large": (
            "el archivo supera el límite de {limit} bytes.",
            "the file exceeds {limit} bytes",
        ),
        "upmsg.shape": (
            "la descripción del formato del archivo no encaja con el archivo; revise los nombres de columna "
            "que indica.",
            "the file's shape description does not fit the file",
        ),
        "upmsg.shape_name": (
            "la descripción del formato del archivo no encaja con el archivo; revise «{name}».",
            "the file's shape description does not fit the file; check {name}",
        ),
        "upmsg.shape_json": (
            "la descripción del formato del archivo no es un objeto JSON válido.",
            "the file's shape description is not a valid JSON object",
        ),
        "upmsg.kind": ("ese tipo de datos no se puede subir.", "that kind of data cannot be uploaded"),
        "upmsg.replaces": (
            "«Sustituye al lote»: el lote elegido no es un lote aceptado del mismo tipo de datos.",
            "Replaces batch: not an accepted batch of the same kind of data",
        ),
        "upmsg.other": (
            "el archivo no se puede usar tal como está; el equipo de datos tiene el detalle en el registro.",
            "the file cannot be used as it is",
        ),
        "upmsg.row.type": ("{value} no es {kind}", "{value} is not {kind}"),
        "upmsg.type.date": ("una fecha (AAAA-MM-DD)", "a date"),
        "upmsg.type.timestamp": ("una fecha y hora ISO 8601", "a timestamp"),
        "upmsg.type.double": ("un número (decimales con «,» o «.», sin separador de miles)", "a number"),
        "upmsg.type.long": ("un número entero (sin separador de miles)", "a whole number"),
        "upmsg.type.boolean": ("true o false", "true or false"),
        "upmsg.type.other": ("del tipo esperado", "of the expected type"),
        "upmsg.row.not_null": ("falta un valor obligatorio", "required value missing"),
        "upmsg.row.range": (
            "{value} está fuera del rango permitido, de {low} a {high}",
            "{value} is outside {low}..{high}",
        ),
        "upmsg.row.values": ("{value} no es uno de: {allowed}", "{value} is not one of {allowed}"),
        "upmsg.row.pattern": (
            "{value} no tiene el formato esperado ({pattern})",
            "{value} does not match {pattern}",
        ),
        "upmsg.row.future_date": ("{value} es una fecha futura", "{value} is in the future"),
        "upmsg.row.too_long": (
            "un valor de {length} caracteres supera el límite de {limit}",
            "a value of {length} characters exceeds {limit}",
        ),
        "upmsg.row.id": (
            "{value} contiene un salto de línea o un tabulador; un código es una sola línea",
            "{value} holds a line break or tab",
        ),
        "upmsg.row.timezone": (
            "{value} no es una zona horaria IANA (p. ej., Europe/Madrid)",
            "{value} is not an IANA timezone",
        ),
        "upmsg.row.subdivision": (
            "{value} no es una región conocida del país de la fila",
            "{value} is not a known region",
        ),
        "upmsg.row.date_order": ("la fecha de fin es anterior a la de inicio", "the end is before the start"),
        "upmsg.row.malformed_row": ("línea ilegible: no se pudo separar en campos", "unreadable line"),
        "upmsg.row.malformed_fields": (
            "línea ilegible: se esperaban {expected} campos y tiene {found}",
            "unreadable line: {expected} fields expected, {found} found",
        ),
        "upmsg.row.unknown_store": ("{value} no es una tienda conocida", "{value} is not a known store"),
        "upmsg.row.unknown_product": ("{value} no es un producto conocido", "{value} is not a known product"),
        "upmsg.row.duplicate_conflict": (
            "la misma clave aparece en otra fila con valores distintos",
            "the same key is in another row with different values",
        ),
        "upmsg.row.duplicate": ("fila repetida (se omite)", "repeated row (skipped)"),
        "upmsg.row.other": ("valor {value} no válido", "invalid value {value}"),
    }
)

# The bake plan (Hornear hoy).
TEXTS.update(
    {
        "nav.bake": ("Hornear hoy", "Bake today"),
        "bake.title": ("Hornear hoy", "Bake today"),
        "bake.for_day": ("Plan para el {day}", "Plan for {day}"),
        "bake.qty": ("Hornear {n}", "Bake {n}"),
        "bake.trays": ("{n} bandejas de {size}", "{n} trays of {size}"),
        "bake.forecast": (
            "Previsión {n} · se hornea para cubrir la demanda el {level} % de los días",
            "Forecast {n} · baked to cover demand on {level}% of days",
        ),
        "bake.degraded": (
            "Parte del plan se hizo con datos incompletos: revise las líneas marcadas.",
            "Part of the plan was made from incomplete data: check the marked lines.",
        ),
        "bake.none": (
            "Todavía no hay plan para esta tienda: se hace cada noche tras la previsión.",
            "No plan for this store yet: it is made every night after the forecast.",
        ),
        "bake.no_store": ("Elija una tienda.", "Choose a store."),
        "bake.csv": ("Descargar el plan (CSV)", "Download the plan (CSV)"),
        "bake.pdf": ("Hoja para imprimir (PDF)", "Sheet to print (PDF)"),
        "bake.pdf.product": ("Producto", "Product"),
        "bake.pdf.qty": ("Hornear", "Bake"),
        "bake.pdf.trays": ("Bandejas", "Trays"),
        "bake.pdf.trays_of": ("{n} de {size}", "{n} of {size}"),
        "bake.pdf.forecast": ("Previsión", "Forecast"),
        "bake.pdf.change": ("Cambio", "Change"),
        "bake.pdf.reason": ("Por qué", "Why"),
        "bake.pdf.footer": (
            "Previsión del {as_of}, modelo {version}. Una cantidad cambiada en la app sale en «Cambio».",
            "Forecast of {as_of}, model {version}. A quantity changed in the app shows under Change.",
        ),
        "bake.ov.open": ("Cambiar una cantidad", "Change a quantity"),
        "bake.ov.product": ("Producto", "Product"),
        "bake.ov.quantity": ("Nueva cantidad (unidades)", "New quantity (units)"),
        "bake.ov.reason": ("Motivo", "Reason"),
        "bake.ov.note": ("Nota (opcional)", "Note (optional)"),
        "bake.ov.reason.event": ("Evento", "Event"),
        "bake.ov.reason.weather": ("Tiempo", "Weather"),
        "bake.ov.reason.supplier": ("Proveedor", "Supplier"),
        "bake.ov.reason.other": ("Otro", "Other"),
        "bake.ov.save": ("Guardar el cambio", "Save the change"),
        "bake.ov.confirm": (
            "Confirmo este cambio grande frente al plan",
            "I confirm this large change against the plan",
        ),
        "bake.ov.saved": (
            "Guardado: {product} pasa de {plan} a {n}.",
            "Saved: {product} goes from {plan} to {n}.",
        ),
        "bake.ov.plan": ("Plan {n}", "Plan {n}"),
        "bake.ov.by": ("Cambiado por {by} · {reason}", "Changed by {by} · {reason}"),
        "bake.ov.err.product": ("Elija un producto del plan.", "Choose a product of the plan."),
        "bake.ov.err.quantity.missing": (
            "Cantidad: escriba cuántas unidades hornear.",
            "Quantity: type how many units to bake.",
        ),
        "bake.ov.err.quantity.not_number": (
            "Cantidad: «{value}» no es un número.",
            "Quantity: '{value}' is not a number.",
        ),
        "bake.ov.err.quantity.negative": (
            "Cantidad: no puede ser negativa.",
            "Quantity: it cannot be negative.",
        ),
        "bake.ov.err.quantity.whole": (
            "Cantidad: escriba unidades enteras.",
            "Quantity: type whole units.",
        ),
        "bake.ov.err.quantity.absurd": (
            "Cantidad: {value} unidades es demasiado (máximo {max}).",
            "Quantity: {value} units is too many (at most {max}).",
        ),
        "bake.ov.err.reason_code.unknown": (
            "Motivo: elija uno de la lista.",
            "Reason: choose one from the list.",
        ),
        "bake.ov.err.note.too_long": (
            "Nota: como mucho {max} caracteres.",
            "Note: at most {max} characters.",
        ),
        "bake.ov.err.note.required": (
            "Nota: {n} está muy lejos del plan ({plan}); explique el motivo en la nota.",
            "Note: {n} is far from the plan ({plan}); say why in the note.",
        ),
        "bake.ov.err.confirm.needed": (
            "{n} está muy lejos del plan ({plan}). Marque la confirmación y guarde otra vez.",
            "{n} is far from the plan ({plan}). Tick the confirmation and save again.",
        ),
    }
)


def t(key: str, lang: str, **fmt: Any) -> str:
    """The text for `key` in `lang` (English if the key lacks it, the key itself if unknown)."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "es" else pair[1]
    return text.format(**fmt) if fmt else text


def weekday(d: date, lang: str) -> str:
    return _WEEKDAYS["es" if lang == "es" else "en"][d.weekday()]


def fmt_num(x: float | None, lang: str, digits: int = 0) -> str:
    """A number with the language's separators: 1.234,5 (es) or 1,234.5 (en); '–' for missing."""
    if x is None or x != x:
        return "\u2013"
    text = f"{x:,.{digits}f}"
    if lang == "es":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return text


def fmt_date(d: date | None, lang: str) -> str:
    if d is None:
        return "\u2013"
    return d.strftime("%d/%m/%Y") if lang == "es" else d.isoformat()


def long_date(d: date, lang: str, year: bool = False) -> str:
    """'martes 8 de diciembre' / 'Tuesday 8 December' (with the year when asked: a stale date may be last year's)."""
    month = _MONTHS["es" if lang == "es" else "en"][d.month - 1]
    if lang == "es":
        return f"{weekday(d, lang)} {d.day} de {month}" + (f" de {d.year}" if year else "")
    return f"{weekday(d, lang)} {d.day} {month}" + (f" {d.year}" if year else "")


def fmt_pct(x: float | None, lang: str, digits: int = 0, signed: bool = False) -> str:
    """A percentage with the language's decimal mark and, in Spanish, the space before '%': '12,5 %' / '12.5%'."""
    if x is None or x != x:
        return "\u2013"
    text = fmt_num(abs(x) if signed else x, lang, digits)
    if signed:
        text = ("+" if x >= 0 else "\u2212") + text
    return f"{text} %" if lang == "es" else f"{text}%"


def choose(lang: str | None, default: str = DEFAULT_LANG) -> str:
    return lang if lang in LANGS else default
