//! The writer of `requests.csv` (with `--log-requests`): a thread that appends the rows the
//! workers hand it, so memory stays bounded however long the run. The engine formats the rows
//! (`engine::request_log`) and sees this writer only through its `RequestLog`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

use super::StoreError;
use super::names::REQUESTS_CSV;
use crate::engine::request_log::{HEADER, RequestLog, RowWriter};

/// The file and its writer thread.
pub struct RequestsCsv {
    rows: Sender<String>,
    writer: Writer,
}

/// The thread writing the rows, waited for once every sender is gone.
struct Writer(JoinHandle<io::Result<()>>);

impl RequestsCsv {
    /// Creates `dir/requests.csv` with its header and starts the writer.
    pub fn create(dir: &Path) -> Result<RequestsCsv, StoreError> {
        let path = REQUESTS_CSV.path_in(dir);
        let start = || -> io::Result<_> {
            let mut file = BufWriter::new(File::create(&path)?);
            file.write_all(HEADER.as_bytes())?;
            file.flush()?;
            let (rows, batches) = channel::<String>();
            let thread = std::thread::Builder::new()
                .name("agentload-requests".into())
                .spawn(move || {
                    for batch in batches {
                        file.write_all(batch.as_bytes())?;
                        file.flush()?;
                    }
                    file.flush()?;
                    file.get_ref().sync_all()
                })?;
            Ok((rows, thread))
        };
        let (rows, thread) = start().map_err(|err| StoreError::write(&path, err))?;
        Ok(RequestsCsv {
            rows,
            writer: Writer(thread),
        })
    }

    /// What the engine is given: where the rows go, and the writer to wait for.
    pub fn into_log(self) -> RequestLog {
        RequestLog::new(self.rows, Box::new(self.writer))
    }
}

impl RowWriter for Writer {
    fn finish(self: Box<Self>) -> Option<String> {
        match self.0.join() {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(format!("cannot write {REQUESTS_CSV}: {err}")),
            Err(_) => Some(format!("the {REQUESTS_CSV} writer stopped unexpectedly")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let log = RequestsCsv::create(dir.path()).unwrap().into_log();
        let rows = log.sender();
        rows.send("a\n".to_owned()).unwrap();
        drop(rows);
        assert_eq!(log.finish(), None);
        let text = std::fs::read_to_string(dir.path().join("requests.csv")).unwrap();
        assert_eq!(text, format!("{HEADER}a\n"));
    }
}
