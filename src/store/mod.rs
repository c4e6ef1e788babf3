//! The report folder, owned in one place: the name of every file in it ([`names`]), preparing
//! the folder ([`prepare`]), writing a whole file atomically ([`write`]), the writers of the
//! files a run streams as it goes (`timeseries.csv`, `histograms.hlog`, `requests.csv`) and of a
//! shard's files, and the one reader of a stored run ([`StoredRun`]) with the one decoder of
//! interval logs. Every problem is a [`StoreError`] naming the file and what is wrong.

mod atomic;
pub mod error;
mod folder;
pub mod hlog;
pub mod interval_log;
pub mod names;
pub mod requests;
mod series;
pub mod shard;
pub mod stored;
pub mod summary_json;
pub mod timeseries;

pub use atomic::write;
pub use error::StoreError;
pub use folder::{create, prepare};
pub use hlog::{HistogramLog, log_comment};
pub use requests::RequestsCsv;
pub use series::series_writers;
pub use stored::StoredRun;
pub use timeseries::{SeriesRow, TimeseriesCsv};
