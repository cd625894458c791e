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
    "nav.models": ("Modelos", "Models"),
    "nav.drivers": ("Factores", "Drivers"),
    "nav.uploads": ("Carga de datos", "Data upload"),
    "nav.users": ("Usuarios", "Users"),
    "nav.settings": ("Ajustes", "Settings"),
    "nav.health": ("Salud del sistema", "System health"),
    "nav.audit": ("Auditoría", "Audit log"),
    "nav.logout": ("Salir", "Log out"),
    "nav.mlflow": ("MLflow", "MLflow"),
    "nav.dashboards": ("Cuadros de mando SQL", "SQL dashboards"),
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
            "Sin total de todos los productos: se venden en unidades distintas.",
            "No all-products total: they are sold in different units.",
        ),
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
