//! A private ClamAV `clamd` on a Unix socket in a temporary directory, with a signature
//! database the test writes itself (there is no internet for signature updates): the EICAR
//! test file and one custom signature, both by MD5 (`custom.hdb`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The file the custom signature names.
pub const CUSTOM_MALWARE: &[u8] =
    b"PENGADUAN-UJI-TANDA-TANGAN-KHUSUS: berkas uji yang dikenali oleh tanda tangan ClamAV khusus.\n";
pub const CUSTOM_SIGNATURE: &str = "Pengaduan.Uji.Khusus";
pub const EICAR_SIGNATURE: &str = "Pengaduan.Uji.EICAR";

pub struct Clamd {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    child: Option<Child>,
    config: PathBuf,
}

impl Clamd {
    /// Where clamd will listen: the socket exists only while it runs.
    pub fn prepare() -> Clamd {
        let dir = tempfile::Builder::new()
            .prefix("clamd")
            .tempdir()
            .expect("temp dir");
        let database = dir.path().join("db");
        std::fs::create_dir(&database).expect("database dir");
        std::fs::write(
            database.join("custom.hdb"),
            format!(
                "44d88612fea8a8f36de82e1278abb02f:68:{EICAR_SIGNATURE}\n\
                 9204f5b7e90c3d3283b52e1456ad1bf9:{}:{CUSTOM_SIGNATURE}\n",
                CUSTOM_MALWARE.len()
            ),
        )
        .expect("write the signatures");
        let socket = dir.path().join("clamd.sock");
        let config = dir.path().join("clamd.conf");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        std::fs::write(
            &config,
            format!(
                "LocalSocket {socket}\nDatabaseDirectory {database}\nPidFile {dir}/clamd.pid\n\
                 LogFile {dir}/clamd.log\nTemporaryDirectory {dir}\nForeground yes\n{user}",
                socket = socket.display(),
                database = database.display(),
                dir = dir.path().display(),
                user = if root { "User root\n" } else { "" },
            ),
        )
        .expect("write clamd.conf");
        Clamd {
            _dir: dir,
            socket,
            child: None,
            config,
        }
    }

    /// Starts clamd and waits until it answers PING.
    pub fn start(&mut self) {
        let child = Command::new("clamd")
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clamd is installed (scripts/install-mail-servers)");
        self.child = Some(child);
        let started = Instant::now();
        while !ping(&self.socket) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "clamd did not start: {}",
                std::fs::read_to_string(self.config.with_file_name("clamd.log"))
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

fn ping(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let mut reply = Vec::new();
    stream.write_all(b"zPING\0").is_ok()
        && stream.read_to_end(&mut reply).is_ok()
        && reply.starts_with(b"PONG")
}

impl Drop for Clamd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
