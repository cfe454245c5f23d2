//! The embedded default transport: each mail becomes an RFC 5322 file under
//! `DATA_DIR/outbox/`. It is written under a hidden temporary name and then renamed, so a reader
//! (a person, a script grepping for `token=`) never sees half a mail.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct FileOutbox {
    dir: PathBuf,
}

impl FileOutbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `message` (the formatted mail) as `<time>-<name>.eml`; returns the file.
    pub async fn write(
        &self,
        message: &[u8],
        name: &str,
        now: DateTime<Utc>,
    ) -> std::io::Result<PathBuf> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let file = format!("{}-{name}.eml", now.format("%Y%m%dT%H%M%S%.3fZ"));
        let path = self.dir.join(&file);
        let partial = self.dir.join(format!(".{file}.partial"));
        tokio::fs::write(&partial, message).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(path)
    }
}
