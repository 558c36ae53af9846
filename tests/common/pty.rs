//! A pseudo-terminal in raw mode as the stand-in for a CM108-style interface's `/dev/hidrawN`
//! (this machine has no USB sound interface and no `uhid` to make one): the code under test
//! opens the terminal's path and writes and reads reports there; the test plays the chip on
//! the master side, reading the output reports it gets and writing input reports.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The chip's side of the stand-in.
pub struct FakeHid {
    master: File,
    /// Held open so the terminal keeps its settings and its input between openers.
    slave: File,
    pub path: PathBuf,
}

impl FakeHid {
    pub fn new() -> FakeHid {
        // SAFETY: plain libc calls on descriptors this function owns; every result is checked.
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            assert_eq!(libc::grantpt(m), 0);
            assert_eq!(libc::unlockpt(m), 0);
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
            let path = PathBuf::from(std::ffi::CStr::from_ptr(name.as_ptr()).to_str().unwrap());
            let s = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(s >= 0, "{}: {}", path.display(), std::io::Error::last_os_error());
            // Raw: bytes pass unchanged and nothing is echoed back to the chip's side.
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(s, &mut t), 0);
            libc::cfmakeraw(&mut t);
            assert_eq!(libc::tcsetattr(s, libc::TCSANOW, &t), 0);
            FakeHid { master: File::from_raw_fd(m), slave: File::from_raw_fd(s), path }
        }
    }

    /// Sends input reports, as the chip does when an input changes.
    pub fn send(&mut self, reports: &[u8]) {
        self.master.write_all(reports).unwrap();
    }

    /// Waits until what was sent can be read on the device side (a pseudo-terminal passes it
    /// on asynchronously), without taking it.
    pub fn wait_delivered(&self) {
        assert!(poll(self.slave.as_raw_fd(), Duration::from_secs(10)), "sent input never reached the device side");
    }

    /// The next output report written to the device (5 bytes), waiting for it.
    pub fn next_output(&mut self) -> [u8; 5] {
        let mut report = [0u8; 5];
        let mut got = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        while got < report.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(poll(self.master.as_raw_fd(), left), "no output report within 30 s (got {:?})", &report[..got]);
            got += self.master.read(&mut report[got..]).unwrap();
        }
        report
    }

    /// True if no output report is waiting.
    pub fn no_output(&self) -> bool {
        !poll(self.master.as_raw_fd(), Duration::ZERO)
    }

    /// Unplugs the interface: the device side's reads fail from now on.
    pub fn unplug(self) -> File {
        drop(self.master);
        self.slave
    }
}

fn poll(fd: i32, timeout: Duration) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd, alive for the call.
    let n = unsafe { libc::poll(&mut p, 1, timeout.as_millis().min(i32::MAX as u128) as i32) };
    n > 0 && p.revents & libc::POLLIN != 0
}
