//! The runtime kill switch: a file in the data directory. `frontdesk assist off` creates it
//! (and audits who did), `frontdesk assist on` removes it; the client looks before every
//! request, so it takes effect on the next one without a restart or a reload.

use std::path::{Path, PathBuf};

/// The file whose presence switches assistance off.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("assist.off")
}

pub struct FileSwitch {
    path: PathBuf,
}

impl FileSwitch {
    pub fn new(data_dir: &Path) -> FileSwitch {
        FileSwitch { path: path(data_dir) }
    }
}

impl super::client::Switch for FileSwitch {
    fn is_off(&self) -> bool {
        // Anything but a clear "not there" counts as off: fail closed.
        !matches!(std::fs::symlink_metadata(&self.path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}
