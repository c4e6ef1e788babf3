//! How a command ended, as the exit code the README documents.

use std::process::ExitCode;

use crate::summary::verdict::Outcome;

/// How a command ended, as an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: the run finished and every threshold held.
    Passed,
    /// 1: a threshold failed.
    Failed,
    /// 2: invalid input (scenario, flags) or a target unusable at setup.
    Invalid,
    /// 130: interrupted; the partial report was written and fixtures deleted.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Passed => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
            Exit::Interrupted => 130,
        }
    }
}

impl Exit {
    /// The exit code of a run's verdict.
    pub fn of(outcome: Outcome) -> Exit {
        match outcome {
            Outcome::Passed => Exit::Passed,
            Outcome::Failed => Exit::Failed,
            Outcome::Interrupted => Exit::Interrupted,
            Outcome::Invalid => Exit::Invalid,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}
