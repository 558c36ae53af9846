//! `[rtp]`: the media ports and the jitter buffer's limits.

use serde::Deserialize;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RtpSection {
    /// UDP ports for media: two per call are reserved (RTP, RTCP).
    #[serde(default = "default_rtp_min")]
    pub port_min: u16,
    #[serde(default = "default_rtp_max")]
    pub port_max: u16,
    /// Delay the jitter buffer starts with; it grows when packets come later than that.
    #[serde(default = "default_jitter_min")]
    pub jitter_min_ms: u32,
    /// The most it grows to.
    #[serde(default = "default_jitter_max")]
    pub jitter_max_ms: u32,
}

impl RtpSection {
    /// The jitter buffer's limits in 20 ms frames.
    pub fn jitter(&self) -> super::jitter::JitterDepth {
        super::jitter::JitterDepth { min_frames: (self.jitter_min_ms / 20) as usize, max_frames: (self.jitter_max_ms / 20) as usize }
    }
}

impl Default for RtpSection {
    fn default() -> Self {
        RtpSection {
            port_min: default_rtp_min(),
            port_max: default_rtp_max(),
            jitter_min_ms: default_jitter_min(),
            jitter_max_ms: default_jitter_max(),
        }
    }
}

fn default_rtp_min() -> u16 {
    20000
}
fn default_rtp_max() -> u16 {
    20999
}
fn default_jitter_min() -> u32 {
    20
}
fn default_jitter_max() -> u32 {
    160
}

impl RtpSection {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if !(self.port_min >= 1024 && self.port_min < self.port_max) {
            p.push(("port_min", format!("{}..{}: use a range above 1023 with port_min < port_max", self.port_min, self.port_max)));
        }
        for (key, ms) in [("jitter_min_ms", self.jitter_min_ms), ("jitter_max_ms", self.jitter_max_ms)] {
            if !(ms % 20 == 0 && (20..=1000).contains(&ms)) {
                p.push((key, format!("{ms}: use a multiple of 20 from 20 to 1000 (one RTP frame is 20 ms)")));
            }
        }
        if self.jitter_min_ms > self.jitter_max_ms {
            p.push(("jitter_max_ms", format!("{} is below jitter_min_ms ({})", self.jitter_max_ms, self.jitter_min_ms)));
        }
        p
    }
}
