//! The thread that gathers the workers' per-second results, merges each second once every
//! worker is past it, and hands it to the series writers as it completes, so the report files
//! grow during the run and a crash or Ctrl-C still leaves every finished second on disk.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use crate::metrics::series::{SeriesEvent, SeriesMerger, SeriesSink};

/// The running collector; [`Collector::finish`] waits for it once every sender is gone.
pub struct Collector {
    sender: Sender<SeriesEvent>,
    thread: JoinHandle<Vec<String>>,
}

impl Collector {
    /// Starts the thread; `sinks` get every second, in order.
    pub fn start(sinks: Vec<Box<dyn SeriesSink>>) -> std::io::Result<Collector> {
        let (sender, receiver) = channel();
        let thread = std::thread::Builder::new()
            .name("agentload-series".into())
            .spawn(move || collect(receiver, sinks))?;
        Ok(Collector { sender, thread })
    }

    /// A sender for a worker or the phase.
    pub fn sender(&self) -> Sender<SeriesEvent> {
        self.sender.clone()
    }

    /// Waits for the last second to be written (every other sender must be dropped first);
    /// returns what went wrong writing.
    pub fn finish(self) -> Vec<String> {
        drop(self.sender);
        self.thread
            .join()
            .unwrap_or_else(|_| vec!["the series writer stopped unexpectedly".to_owned()])
    }
}

fn collect(events: Receiver<SeriesEvent>, mut sinks: Vec<Box<dyn SeriesSink>>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut merger: Option<SeriesMerger> = None;
    for event in events {
        match event {
            SeriesEvent::Start { wall, workers } => {
                merger = Some(SeriesMerger::new(workers));
                for sink in &mut sinks {
                    note(&mut problems, sink.begin(wall));
                }
            }
            SeriesEvent::Handoff(handoff) => {
                if let Some(merger) = &mut merger {
                    write(&mut sinks, merger.accept(handoff), &mut problems);
                }
            }
        }
    }
    if let Some(merger) = &mut merger {
        write(&mut sinks, merger.drain(), &mut problems);
    }
    for sink in &mut sinks {
        note(&mut problems, sink.finish());
    }
    problems.dedup();
    problems
}

fn write(
    sinks: &mut [Box<dyn SeriesSink>],
    seconds: Vec<(u32, crate::metrics::series::SecondRecord)>,
    problems: &mut Vec<String>,
) {
    for (second, record) in seconds {
        for sink in sinks.iter_mut() {
            note(problems, sink.second(second, &record));
        }
    }
}

fn note(problems: &mut Vec<String>, result: std::io::Result<()>) {
    if let Err(err) = result {
        problems.push(format!("cannot write the series: {err}"));
    }
}
