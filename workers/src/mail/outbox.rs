//! The embedded default transport: each mail becomes an RFC 5322 file under
//! `DATA_DIR/outbox/`. It is written under a hidden temporary name, synced, then renamed (and
//! the folder synced), so a reader (a person, a script grepping for `token=`) never sees half a
//! mail, and a mail recorded as sent survives a power cut. The files hold live links and
//! addresses: the folder is the owner's only (0700, files 0600).

use std::io::Write;
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
        let dir = self.dir.clone();
        let file = format!("{}-{name}.eml", now.format("%Y%m%dT%H%M%S%.3fZ"));
        let message = message.to_vec();
        tokio::task::spawn_blocking(move || write_durably(&dir, &file, &message))
            .await
            .map_err(std::io::Error::other)?
    }
}

fn write_durably(dir: &Path, file: &str, message: &[u8]) -> std::io::Result<PathBuf> {
    create_private_dir(dir)?;
    let path = dir.join(file);
    let partial = dir.join(format!(".{file}.partial"));
    let mut out = private_file(&partial)?;
    out.write_all(message)?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&partial, &path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[tokio::test]
    async fn mails_are_whole_files_only_their_owner_may_read() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = FileOutbox::new(dir.path().join("outbox"));
        let path = outbox
            .write(b"Subject: hi\r\n\r\ntoken=abc\r\n", "job-1", Utc::now())
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"Subject: hi\r\n\r\ntoken=abc\r\n"
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(outbox.dir()), 0o700);
        let names: Vec<_> = std::fs::read_dir(outbox.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
        assert!(names[0].ends_with("-job-1.eml"));
    }
}
