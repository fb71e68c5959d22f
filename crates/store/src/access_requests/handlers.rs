//! The job handlers of the engine: each runs one transition and completes its job in one write
//! transaction (a worker that lost its lease commits neither).

use super::{engine, kinds};
use crate::jobs::{self, Job};
use crate::runner::{JobError, JobFuture, JobHandler};
use crate::{Conn, Store, StoreError};
use gatehouse_domain::{Clock, Timestamp};
use std::sync::Arc;

type Transition = fn(&mut dyn Conn, &str, &str, Timestamp) -> Result<(), StoreError>;

/// One job kind bound to its transition.
struct Step {
    kind: &'static str,
    run: Transition,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl JobHandler for Step {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn run(&self, job: Job) -> JobFuture {
        let (store, clock, run) = (self.store.clone(), self.clock.clone(), self.run);
        Box::pin(async move {
            let arg = |k: &str| {
                job.args
                    .get(k)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| JobError::Fail(format!("job {} has no '{k}' argument", job.id)))
            };
            let (tenant, id) = (arg("tenantId")?, arg("id")?);
            let now = clock.now();
            let (job_id, worker) = (job.id, job.worker.unwrap_or_default());
            store
                .write(move |c| {
                    run(c, &tenant, &id, now)?;
                    if jobs::complete(c, job_id, &worker, now)? {
                        Ok(())
                    } else {
                        Err(StoreError::Conflict(format!(
                            "job {job_id}: the lease was lost; the transition is not kept"
                        )))
                    }
                })
                .await?;
            Ok(())
        })
    }

    fn completes_its_job(&self) -> bool {
        true
    }
}

/// The handlers of every engine job kind (service-desk tickets excepted: their provisioning
/// capability registers its own).
pub fn all(store: &Store, clock: &Arc<dyn Clock>) -> Vec<Arc<dyn JobHandler>> {
    let steps: [(&'static str, Transition); 4] = [
        (kinds::PROCESS, engine::process),
        (kinds::PROVISION, engine::provision),
        (kinds::APPROVAL_TIMER, engine::timer),
        (kinds::EXPIRE_ASSIGNMENT, engine::expire_assignment),
    ];
    steps
        .into_iter()
        .map(|(kind, run)| {
            Arc::new(Step {
                kind,
                run,
                store: store.clone(),
                clock: clock.clone(),
            }) as Arc<dyn JobHandler>
        })
        .collect()
}
