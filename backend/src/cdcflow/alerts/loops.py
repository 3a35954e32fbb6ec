"""The alert loop services an API process runs: the evaluator and the delivery worker."""

from cdcflow.alerts.delivery import DeliveryWorker
from cdcflow.alerts.evaluator import AlertEvaluator
from cdcflow.alerts.observe import CurrentObservations, monitor_health
from cdcflow.core.loop import LoopService
from cdcflow.events.service import EventLoggerService
from cdcflow.monitoring.monitor import HealthMonitor
from cdcflow.engine.context import EngineContext


def alert_loops(ctx: EngineContext, event_logger: EventLoggerService | None,
                monitor: HealthMonitor) -> list[LoopService]:
    settings = ctx.settings
    observations = CurrentObservations(ctx, event_logger, monitor_health(monitor))
    return [AlertEvaluator(ctx.session_factory, observations, settings.ui_url, settings.alert_eval_interval_seconds),
            DeliveryWorker(ctx.session_factory, ctx.box, settings)]
