//! The local engine behind the driver-side Spark objects: RDD lineage,
//! jobs split into one task per partition and run `local[N]`-parallel on the
//! worker host, the byte-level shuffle (pickled batches routed by their
//! partition key, never unpickled), cached partitions, and the sockets through
//! which results reach the driver.

pub mod accumulators;
pub mod barrier;
pub mod elem;
mod error;
pub mod objectfile;
pub mod output;
pub mod python;
pub mod random;
pub mod rdd;
pub mod seqfile;
mod sequence;
pub mod serve;
pub mod spill;
pub mod textfile;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use sparkwire_worker::host::{Host, HostConfig, Python};

pub use elem::Elem;
pub use error::{JobError, TaskPlace};
pub use rdd::{Checkpoint, Rdd, RddId, RddKind};

/// Most partitions one RDD may have: the engine keeps per-partition state, and
/// a count from the driver is never allocated unchecked.
pub const MAX_PARTITIONS: usize = 1 << 20;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Tasks run at once (`local[N]`).
    pub parallelism: usize,
    /// The workers' interpreter.
    pub worker_python: PathBuf,
    /// Scratch space (`spark.local.dir`): parallelize and broadcast files.
    pub local_dir: PathBuf,
    /// `SparkFiles` root: files and `--py-files` shipped to workers.
    pub files_dir: PathBuf,
    /// The worker host's settings.
    pub host: HostConfig,
    /// The workers' interpreter, already probed (saves probing it again).
    pub probed: Option<Python>,
    /// Bytes of shuffle data held in memory before it spills to `local_dir`.
    pub shuffle_memory: usize,
}

/// A job run so far: its id, its job group, its stage ids.
type FinishedJob = (i32, Option<String>, Vec<i32>);

/// The engine: lineage, counters and the worker host.
pub struct Engine {
    config: EngineConfig,
    host: OnceLock<Result<Arc<Host>, String>>,
    rdds: RwLock<HashMap<RddId, Arc<Rdd>>>,
    next_rdd: AtomicI32,
    next_stage: AtomicI32,
    next_task: AtomicI64,
    next_job: AtomicI32,
    next_broadcast: AtomicI64,
    cancelled: AtomicBool,
    /// Meeting points of barrier stages, by (RDD, stage).
    barriers: Mutex<HashMap<(RddId, i32), Arc<barrier::BarrierGroup>>>,
    /// Elements a shuffle holds before it spills (Spark's force-spill setting).
    spill_elements: AtomicUsize,
    /// Finished jobs: `(job id, job group, stage ids)`.
    jobs: Mutex<Vec<FinishedJob>>,
}

impl Engine {
    /// An engine; workers start on the first task.
    pub fn new(config: EngineConfig) -> Engine {
        Engine {
            config,
            host: OnceLock::new(),
            rdds: RwLock::new(HashMap::new()),
            next_rdd: AtomicI32::new(0),
            next_stage: AtomicI32::new(0),
            next_task: AtomicI64::new(0),
            next_job: AtomicI32::new(0),
            next_broadcast: AtomicI64::new(0),
            cancelled: AtomicBool::new(false),
            jobs: Mutex::new(Vec::new()),
            barriers: Mutex::new(HashMap::new()),
            spill_elements: AtomicUsize::new(usize::MAX),
        }
    }

    /// Its settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The `SparkFiles` root.
    pub fn files_dir(&self) -> &Path {
        &self.config.files_dir
    }

    /// The worker host, started on first use.
    pub fn host(&self) -> Result<Arc<Host>, JobError> {
        self.host
            .get_or_init(|| {
                let python = match &self.config.probed {
                    Some(p) => p.clone(),
                    None => Python::probe(&self.config.worker_python).map_err(|e| e.to_string())?,
                };
                Host::new(python, self.config.host.clone())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(JobError::Host)
    }

    /// Starts the host and the daemon for tasks with `env` in the background
    /// (a context was just created: a job will follow).
    pub fn warm_up(self: &Arc<Self>, env: Vec<(String, String)>) {
        let engine = Arc::clone(self);
        let _ = std::thread::Builder::new()
            .name("warm-up".into())
            .spawn(move || {
                if let Ok(host) = engine.host() {
                    let _ = host.prestart(&env);
                }
            });
    }

    /// Where shuffles spill.
    fn spill_dir(&self) -> PathBuf {
        self.config.local_dir.join("shuffle")
    }

    fn spill_limits(&self) -> spill::Limits {
        spill::Limits {
            bytes: self.config.shuffle_memory,
            elements: self.spill_elements.load(Ordering::Relaxed),
        }
    }

    /// `spark.shuffle.spill.numElementsForceSpillThreshold`: spill a shuffle
    /// once this many elements are held.
    pub fn set_spill_elements(&self, n: usize) {
        self.spill_elements.store(n, Ordering::Relaxed);
    }

    /// A fresh broadcast id (`TorrentBroadcast.id`).
    pub fn new_broadcast_id(&self) -> i64 {
        self.next_broadcast.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh job id.
    pub fn new_job_id(&self) -> i32 {
        self.next_job.fetch_add(1, Ordering::Relaxed)
    }

    /// Ids of the jobs run in `group` (`spark.jobGroup.id`), or of all jobs.
    pub fn jobs_in_group(&self, group: Option<&str>) -> Vec<i32> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, g, _)| group.is_none() || g.as_deref() == group)
            .map(|(id, _, _)| *id)
            .collect()
    }

    /// The stages of a finished job.
    pub fn job_stages(&self, job: i32) -> Option<Vec<i32>> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|(id, _, _)| *id == job)
            .map(|(_, _, s)| s.clone())
    }

    /// Adds an RDD to the lineage.
    pub fn add(&self, kind: RddKind) -> Result<RddId, JobError> {
        self.add_partitioned(kind, None)
    }

    /// Adds an RDD; `partitioner` for a shuffle by `partitionBy`, otherwise
    /// what Spark's RDD of that kind inherits from its parents.
    pub fn add_partitioned(
        &self,
        kind: RddKind,
        partitioner: Option<(usize, i64)>,
    ) -> Result<RddId, JobError> {
        let inherited = match &kind {
            RddKind::Values { parent }
            | RddKind::Pairwise { parent }
            | RddKind::Python {
                parent,
                preserve: true,
                ..
            } => self.rdd(*parent)?.partitioner,
            RddKind::Union(parents) if !parents.is_empty() => {
                let mut common = None;
                let mut same = true;
                for p in parents {
                    let r = self.rdd(*p)?;
                    if r.partitions == 0 {
                        continue;
                    }
                    match (common, r.partitioner) {
                        (_, None) => same = false,
                        (None, Some(x)) => common = Some(x),
                        (Some(c), Some(x)) => same &= c == x,
                    }
                }
                if same {
                    common
                } else {
                    None
                }
            }
            _ => None,
        };
        let partitioner = partitioner.or(inherited);
        let kind = match kind {
            RddKind::Union(parents) if partitioner.is_some() => RddKind::AwareUnion(parents),
            other => other,
        };
        let partitions = match &kind {
            RddKind::Parallel(p) => p.len(),
            RddKind::Text(s) | RddKind::Object(s) | RddKind::Sequence(s, _) => s.len(),
            RddKind::Python { parent, .. }
            | RddKind::Pairwise { parent }
            | RddKind::Values { parent }
            | RddKind::BytesToString { parent } => self.rdd(*parent)?.partitions,
            RddKind::Shuffled { partitions, .. } | RddKind::Repartition { partitions, .. } => {
                *partitions
            }
            RddKind::Union(parents) => {
                let mut n = 0;
                for p in parents {
                    n += self.rdd(*p)?.partitions;
                }
                n
            }
            RddKind::AwareUnion(_) => partitioner.map_or(0, |p| p.0),
            RddKind::Zip(a, b) => {
                let (na, nb) = (self.rdd(*a)?.partitions, self.rdd(*b)?.partitions);
                if na != nb {
                    return Err(JobError::exception(
                        "java.lang.IllegalArgumentException",
                        format!(
                            "Can't zip RDDs with unequal numbers of partitions: List({na}, {nb})"
                        ),
                    ));
                }
                na
            }
            RddKind::Cartesian(a, b) => self
                .rdd(*a)?
                .partitions
                .saturating_mul(self.rdd(*b)?.partitions),
            RddKind::Coalesce { groups, .. } => groups.len(),
            RddKind::Empty => 0,
        };
        if partitions > MAX_PARTITIONS {
            return Err(JobError::exception(
                "java.lang.IllegalArgumentException",
                format!("{partitions} partitions: more than the {MAX_PARTITIONS} sparkwire submit handles in one RDD"),
            ));
        }
        let id = self.next_rdd.fetch_add(1, Ordering::Relaxed);
        let mut rdd = Rdd::new(id, kind, partitions);
        rdd.partitioner = partitioner;
        let rdd = Arc::new(rdd);
        self.rdds
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, rdd);
        Ok(id)
    }

    /// An RDD of the lineage.
    pub fn rdd(&self, id: RddId) -> Result<Arc<Rdd>, JobError> {
        self.rdds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or_else(|| {
                JobError::exception("java.lang.IllegalStateException", format!("no RDD {id}"))
            })
    }

    /// Keeps (or stops keeping) an RDD's computed partitions.
    pub fn set_cached(&self, id: RddId, cached: bool) -> Result<(), JobError> {
        let rdd = self.rdd(id)?;
        let mut c = rdd.cache.lock().unwrap_or_else(|p| p.into_inner());
        *c = cached.then(|| c.take().unwrap_or_else(|| vec![None; rdd.partitions]));
        Ok(())
    }

    /// Runs a job: the given partitions of `id`, `local[N]`-parallel.
    pub fn run_job(
        &self,
        id: RddId,
        partitions: &[usize],
        properties: &[(String, String)],
    ) -> Result<Vec<Arc<Vec<Elem>>>, JobError> {
        let rdd = self.rdd(id)?;
        for &p in partitions {
            if p >= rdd.partitions {
                return Err(JobError::exception(
                    "java.lang.IllegalArgumentException",
                    format!(
                        "Attempted to use partition {p}, but there are only {} partitions",
                        rdd.partitions
                    ),
                ));
            }
        }
        // Stages as Spark's DAGScheduler numbers them: every shuffle not yet
        // computed gets its map stage first (ancestors before descendants),
        // then the result stage; each is run in that order.
        let mut shuffles = Vec::new();
        self.missing_shuffles(id, &mut shuffles, &mut std::collections::HashSet::new())?;
        let staged: Vec<(Arc<Rdd>, i32)> = shuffles
            .into_iter()
            .map(|s| {
                Ok((
                    self.rdd(s)?,
                    self.next_stage.fetch_add(1, Ordering::Relaxed),
                ))
            })
            .collect::<Result<_, JobError>>()?;
        let job = self.new_job_id();
        let mut stage_ids: Vec<i32> = staged.iter().map(|(_, s)| *s).collect();
        let stage = self.next_stage.fetch_add(1, Ordering::Relaxed);
        stage_ids.push(stage);
        let group = properties
            .iter()
            .find(|(k, _)| k == "spark.jobGroup.id")
            .map(|(_, v)| v.clone());
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((job, group, stage_ids));
        for (shuffled, map_stage) in staged {
            if let RddKind::Shuffled { parent, partitions } = &shuffled.kind {
                shuffled
                    .shuffle
                    .get_or_init(|| self.shuffle(*parent, *partitions, properties, Some(map_stage)))
                    .clone()?;
            }
        }
        if self.has_barrier(id)? && partitions.len() != rdd.partitions {
            return Err(JobError::exception(
                "org.apache.spark.scheduler.BarrierJobUnsupportedRDDChainException",
                "[SPARK-24820][SPARK-24821]: Barrier execution mode does not allow the following pattern of RDD chain \
                 within a barrier stage: 1. Ancestor RDDs that have different number of partitions from the resulting \
                 RDD (e.g. union()/coalesce()/first()/take()/PartitionPruningRDD).",
            ));
        }
        if self.has_barrier(id)? && partitions.len() > self.config.parallelism {
            return Err(JobError::exception(
                "org.apache.spark.scheduler.BarrierJobSlotsNumberCheckFailed",
                "[SPARK-24819]: Barrier execution mode does not allow run a barrier stage that requires more slots than \
                 the total number of slots in the cluster currently. Please init a new cluster with more resources(e.g. CPU, GPU) \
                 or repartition the input RDD(s) to reduce the number of slots required to run this barrier stage.",
            ));
        }
        let out = self.run_partitions(&rdd, partitions, stage, properties)?;
        self.mark_checkpointed(id, &mut std::collections::HashSet::new());
        Ok(out)
    }

    /// The parents of an RDD.
    fn parents(kind: &RddKind) -> Vec<RddId> {
        match kind {
            RddKind::Python { parent, .. }
            | RddKind::Pairwise { parent }
            | RddKind::Shuffled { parent, .. }
            | RddKind::Values { parent }
            | RddKind::BytesToString { parent }
            | RddKind::Coalesce { parent, .. }
            | RddKind::Repartition { parent, .. } => vec![*parent],
            RddKind::Union(ps) | RddKind::AwareUnion(ps) => ps.clone(),
            RddKind::Zip(a, b) | RddKind::Cartesian(a, b) => vec![*a, *b],
            RddKind::Parallel(_)
            | RddKind::Text(_)
            | RddKind::Object(_)
            | RddKind::Sequence(..)
            | RddKind::Empty => Vec::new(),
        }
    }

    /// Whether the stage ending at `id` has a barrier RDD (narrow ancestry).
    fn has_barrier(&self, id: RddId) -> Result<bool, JobError> {
        let rdd = self.rdd(id)?;
        Ok(match &rdd.kind {
            RddKind::Python { barrier: true, .. } => true,
            RddKind::Shuffled { .. } | RddKind::Repartition { .. } => false,
            other => {
                let mut any = false;
                for p in Engine::parents(other) {
                    any |= self.has_barrier(p)?;
                }
                any
            }
        })
    }

    /// Shuffles `id` needs that are not computed yet, ancestors first.
    fn missing_shuffles(
        &self,
        id: RddId,
        out: &mut Vec<RddId>,
        seen: &mut std::collections::HashSet<RddId>,
    ) -> Result<(), JobError> {
        if !seen.insert(id) {
            return Ok(());
        }
        let rdd = self.rdd(id)?;
        let done = matches!(
            rdd.kind,
            RddKind::Shuffled { .. } | RddKind::Repartition { .. }
        ) && rdd.shuffle.get().is_some();
        if done {
            return Ok(());
        }
        for p in Engine::parents(&rdd.kind) {
            self.missing_shuffles(p, out, seen)?;
        }
        if matches!(rdd.kind, RddKind::Shuffled { .. }) {
            out.push(id);
        }
        Ok(())
    }

    /// After a job: RDDs of its lineage that asked for a checkpoint now have one.
    fn mark_checkpointed(&self, id: RddId, seen: &mut std::collections::HashSet<RddId>) {
        if !seen.insert(id) {
            return;
        }
        let Ok(rdd) = self.rdd(id) else { return };
        {
            let mut c = rdd.checkpoint.lock().unwrap_or_else(|p| p.into_inner());
            if *c == Checkpoint::Requested {
                *c = Checkpoint::Done;
            }
        }
        for p in Engine::parents(&rdd.kind) {
            self.mark_checkpointed(p, seen);
        }
    }

    /// Asks for a checkpoint of `id` (kept from the next job on).
    pub fn request_checkpoint(&self, id: RddId) -> Result<(), JobError> {
        let rdd = self.rdd(id)?;
        let mut c = rdd.checkpoint.lock().unwrap_or_else(|p| p.into_inner());
        if *c == Checkpoint::None {
            *c = Checkpoint::Requested;
        }
        drop(c);
        self.set_cached(id, true)
    }

    /// Whether `id` has been checkpointed.
    pub fn is_checkpointed(&self, id: RddId) -> Result<bool, JobError> {
        Ok(*self
            .rdd(id)?
            .checkpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            == Checkpoint::Done)
    }

    /// Computes `partitions` of `rdd` with up to N threads; the first error wins.
    fn run_partitions(
        &self,
        rdd: &Arc<Rdd>,
        partitions: &[usize],
        stage: i32,
        properties: &[(String, String)],
    ) -> Result<Vec<Arc<Vec<Elem>>>, JobError> {
        let n = partitions.len();
        let results: Vec<Mutex<Option<Arc<Vec<Elem>>>>> =
            (0..n).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed: Mutex<Option<JobError>> = Mutex::new(None);
        let threads = self.config.parallelism.max(1).min(n.max(1));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    if failed.lock().unwrap_or_else(|p| p.into_inner()).is_some()
                        || self.cancelled.load(Ordering::Relaxed)
                    {
                        return;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let place = TaskPlace {
                        stage,
                        partition: partitions[i],
                        task_id: self.next_task.fetch_add(1, Ordering::Relaxed),
                        properties: properties.to_vec(),
                    };
                    match self.compute(rdd, &place) {
                        Ok(v) => *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(v),
                        Err(e) => {
                            let mut f = failed.lock().unwrap_or_else(|p| p.into_inner());
                            if f.is_none() {
                                *f = Some(e);
                            }
                            return;
                        }
                    }
                });
            }
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        results
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|p| p.into_inner())
                    .ok_or_else(|| {
                        JobError::exception("org.apache.spark.SparkException", "Job cancelled")
                    })
            })
            .collect()
    }

    /// One partition of `rdd` (from its cache when kept).
    fn compute(&self, rdd: &Arc<Rdd>, place: &TaskPlace) -> Result<Arc<Vec<Elem>>, JobError> {
        let p = place.partition;
        if let Some(cache) = rdd.cache.lock().unwrap_or_else(|x| x.into_inner()).as_ref() {
            if let Some(Some(hit)) = cache.get(p) {
                return Ok(hit.clone());
            }
        }
        let out = Arc::new(self.compute_uncached(rdd, place)?);
        if let Some(cache) = rdd.cache.lock().unwrap_or_else(|x| x.into_inner()).as_mut() {
            if let Some(slot) = cache.get_mut(p) {
                *slot = Some(out.clone());
            }
        }
        Ok(out)
    }

    fn parent(
        &self,
        id: RddId,
        place: &TaskPlace,
        partition: usize,
    ) -> Result<Arc<Vec<Elem>>, JobError> {
        let rdd = self.rdd(id)?;
        let mut at = place.clone();
        at.partition = partition;
        self.compute(&rdd, &at)
    }

    fn compute_uncached(&self, rdd: &Arc<Rdd>, place: &TaskPlace) -> Result<Vec<Elem>, JobError> {
        let p = place.partition;
        Ok(match &rdd.kind {
            RddKind::Parallel(slices) => slices.get(p).cloned().unwrap_or_default(),
            RddKind::Text(splits) => match splits.get(p) {
                Some(s) => textfile::read_split(s)
                    .map_err(|e| JobError::exception("java.io.IOException", e.to_string()))?
                    .into_iter()
                    .map(|l| Elem::Str(l.into()))
                    .collect(),
                None => Vec::new(),
            },
            RddKind::Sequence(splits, version) => match splits.get(p) {
                Some(s) => seqfile::to_pickled(&seqfile::read_split(s)?, *version)?
                    .into_iter()
                    .map(Elem::Bytes)
                    .collect(),
                None => Vec::new(),
            },
            RddKind::Object(splits) => match splits.get(p) {
                Some(s) => objectfile::read_split(s)?
                    .into_iter()
                    .map(Elem::Bytes)
                    .collect(),
                None => Vec::new(),
            },
            RddKind::Python {
                parent,
                func,
                barrier,
                ..
            } => {
                let input = self.parent(*parent, place, p)?;
                let group = if *barrier {
                    let mut groups = self.barriers.lock().unwrap_or_else(|x| x.into_inner());
                    Some(
                        groups
                            .entry((rdd.id, place.stage))
                            .or_insert_with(|| Arc::new(barrier::BarrierGroup::new(rdd.partitions)))
                            .clone(),
                    )
                } else {
                    None
                };
                python::run(
                    &*self.host()?,
                    self.files_dir(),
                    func,
                    place.clone(),
                    input.to_vec(),
                    group,
                )?
            }
            RddKind::Pairwise { parent } => {
                let input = self.parent(*parent, place, p)?;
                let mut out = Vec::with_capacity(input.len() / 2);
                for pair in input.chunks(2) {
                    let [Elem::Bytes(k), v] = pair else {
                        return Err(JobError::exception(
                            "org.apache.spark.SparkException",
                            "PairwiseRDD: unexpected value: an odd number of frames or a non-bytes key",
                        ));
                    };
                    let key: [u8; 8] = k[..].try_into().map_err(|_| {
                        JobError::exception(
                            "org.apache.spark.SparkException",
                            format!("PairwiseRDD: unexpected value: a {}-byte key", k.len()),
                        )
                    })?;
                    out.push(Elem::pair(Elem::Long(i64::from_be_bytes(key)), v.clone()));
                }
                out
            }
            RddKind::Shuffled { parent, partitions } => {
                let buckets = rdd
                    .shuffle
                    .get_or_init(|| self.shuffle(*parent, *partitions, &place.properties, None))
                    .clone()?;
                match buckets.get(p) {
                    Some(b) => b.read()?,
                    None => Vec::new(),
                }
            }
            RddKind::Repartition { parent, partitions } => {
                let buckets = rdd
                    .shuffle
                    .get_or_init(|| self.repartition(*parent, *partitions, &place.properties))
                    .clone()?;
                match buckets.get(p) {
                    Some(b) => b.read()?,
                    None => Vec::new(),
                }
            }
            RddKind::Values { parent } => self
                .parent(*parent, place, p)?
                .iter()
                .map(|e| match e {
                    Elem::Pair(kv) => kv.1.clone(),
                    other => other.clone(),
                })
                .collect(),
            RddKind::Union(parents) => {
                let mut rest = p;
                for id in parents {
                    let n = self.rdd(*id)?.partitions;
                    if rest < n {
                        return Ok(self.parent(*id, place, rest)?.to_vec());
                    }
                    rest -= n;
                }
                Vec::new()
            }
            RddKind::AwareUnion(parents) => {
                let mut out = Vec::new();
                for id in parents {
                    if self.rdd(*id)?.partitions > p {
                        out.extend(self.parent(*id, place, p)?.iter().cloned());
                    }
                }
                out
            }
            RddKind::Zip(a, b) => {
                let (xa, xb) = (self.parent(*a, place, p)?, self.parent(*b, place, p)?);
                if xa.len() != xb.len() {
                    return Err(JobError::exception(
                        "org.apache.spark.SparkException",
                        "Can only zip RDDs with same number of elements in each partition",
                    ));
                }
                xa.iter()
                    .zip(xb.iter())
                    .map(|(x, y)| Elem::pair(x.clone(), y.clone()))
                    .collect()
            }
            RddKind::Cartesian(a, b) => {
                let nb = self.rdd(*b)?.partitions.max(1);
                let (xa, xb) = (
                    self.parent(*a, place, p / nb)?,
                    self.parent(*b, place, p % nb)?,
                );
                let mut out = Vec::with_capacity(xa.len() * xb.len());
                for x in xa.iter() {
                    for y in xb.iter() {
                        out.push(Elem::pair(x.clone(), y.clone()));
                    }
                }
                out
            }
            RddKind::BytesToString { parent } => self
                .parent(*parent, place, p)?
                .iter()
                .map(|e| match e {
                    Elem::Bytes(b) => Elem::Str(String::from_utf8_lossy(b).into()),
                    other => other.clone(),
                })
                .collect(),
            RddKind::Coalesce { parent, groups } => {
                let mut out = Vec::new();
                for &q in groups.get(p).map(Vec::as_slice).unwrap_or_default() {
                    out.extend(self.parent(*parent, place, q)?.iter().cloned());
                }
                out
            }
            RddKind::Empty => Vec::new(),
        })
    }

    /// The map side of a shuffle: every partition of the keyed parent, its
    /// pairs routed to `nonNegativeMod(key.toInt, n)` in map-partition order,
    /// as Spark's sort-based shuffle delivers them to each reducer.
    fn shuffle(
        &self,
        parent: RddId,
        n: usize,
        properties: &[(String, String)],
        stage: Option<i32>,
    ) -> Result<Arc<Vec<spill::Bucket>>, JobError> {
        let rdd = self.rdd(parent)?;
        let all: Vec<usize> = (0..rdd.partitions).collect();
        let stage = stage.unwrap_or_else(|| self.next_stage.fetch_add(1, Ordering::Relaxed));
        let maps = self.run_partitions(&rdd, &all, stage, properties)?;
        let mut out = spill::Buckets::new(n, self.spill_dir(), self.spill_limits());
        for part in maps {
            for e in part.iter() {
                let b = match e {
                    Elem::Pair(kv) => match kv.0 {
                        Elem::Long(k) => non_negative_mod(k as i32, n),
                        _ => 0,
                    },
                    _ => 0,
                };
                out.push(b, e.clone())?;
            }
        }
        let buckets = out.finish()?;
        Ok(Arc::new(buckets))
    }
}

impl Engine {
    /// `coalesce(n, shuffle = true)` (`repartition`): each map partition's
    /// elements dealt round-robin from a start position Spark draws with
    /// `XORShiftRandom(partition index)`, delivered in map-partition order.
    fn repartition(
        &self,
        parent: RddId,
        n: usize,
        properties: &[(String, String)],
    ) -> Result<Arc<Vec<spill::Bucket>>, JobError> {
        let rdd = self.rdd(parent)?;
        let all: Vec<usize> = (0..rdd.partitions).collect();
        let stage = self.next_stage.fetch_add(1, Ordering::Relaxed);
        let maps = self.run_partitions(&rdd, &all, stage, properties)?;
        let mut buckets = vec![Vec::new(); n];
        for (index, part) in maps.iter().enumerate() {
            let mut position = random::XorShift::new(index as i64).next_int(n as i32);
            for e in part.iter() {
                position = position.wrapping_add(1);
                if let Some(b) = buckets.get_mut(non_negative_mod(position, n)) {
                    b.push(e.clone());
                }
            }
        }
        Ok(Arc::new(
            buckets.into_iter().map(spill::Bucket::memory).collect(),
        ))
    }
}

/// `Utils.nonNegativeMod(x, mod)`.
fn non_negative_mod(x: i32, m: usize) -> usize {
    let m = m.max(1) as i64;
    (i64::from(x).rem_euclid(m)) as usize
}
