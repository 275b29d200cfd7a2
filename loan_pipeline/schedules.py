"""The monthly cycle on the first day of each month (UTC): ingest 02:00, training 04:00, inference 06:00,
monitoring 08:00. Each tick targets the partition of the month that just ended (Dagster's default for
schedules built from partitioned jobs), so every step sees the same month."""

import dagster as dg

from loan_pipeline.jobs import inference_job, ingest_job, monitoring_job, training_job


def _monthly(job, hour: int) -> dg.ScheduleDefinition:
    return dg.build_schedule_from_partitioned_job(
        job, hour_of_day=hour, minute_of_hour=0, day_of_month=1, default_status=dg.DefaultScheduleStatus.RUNNING,
        name=f"{job.name.removesuffix('_job')}_schedule",
    )


ingest_schedule = _monthly(ingest_job, 2)
# Periodic training: model[M] is evaluated every month; the policy trains only every
# `retrain_every_months` (or with no champion yet) and otherwise carries the champion forward.
training_schedule = _monthly(training_job, 4)
inference_schedule = _monthly(inference_job, 6)
monitoring_schedule = _monthly(monitoring_job, 8)

all_schedules = [ingest_schedule, training_schedule, inference_schedule, monitoring_schedule]
