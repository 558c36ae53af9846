//! SRTP (RFC 3711) for one call, keyed by SDES (RFC 4568): the crypto suites the box offers
//! and answers, its master keys, and the protect/unprotect step the media thread puts between
//! its packets and the socket. The ciphers are webrtc-srtp's (AES-CM with HMAC-SHA1, RFC 3711;
//! AES-GCM, RFC 7714), with replay protection on what comes in.
//!
//! Keys are exchanged only in SDP carried over TLS (the UA checks that); nothing here ever
//! formats a key for a log line (`MasterKey` and `Keys` print as `<redacted>`).

use webrtc_srtp::context::Context;
use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use webrtc_srtp::protection_profile::ProtectionProfile;

/// Packets the replay window remembers (RFC 3711 3.3.2 asks for at least 64).
const REPLAY_WINDOW: usize = 128;
/// Before the peer's first authentic packet, each SSRC a forger makes up takes a little state
/// in the receiving context: after this many failures it is made afresh (nothing has been
/// accepted yet, so no replay window is lost). Once a packet authenticates, its SSRC is the
/// only one decrypted and the context is never reset.
const FAILURES_BEFORE_RESET: u32 = 512;

/// The SDES crypto suites, in the box's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    AesCm128HmacSha1_80,
    AesCm128HmacSha1_32,
    AeadAes128Gcm,
}

impl Suite {
    pub const ALL: [Suite; 3] = [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32, Suite::AeadAes128Gcm];

    /// The name in `a=crypto` (RFC 4568 6.2, RFC 7714 14.2).
    pub fn sdes_name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Suite::AeadAes128Gcm => "AEAD_AES_128_GCM",
        }
    }

    pub fn from_sdes_name(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.sdes_name().eq_ignore_ascii_case(name))
    }

    fn profile(self) -> ProtectionProfile {
        match self {
            Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            Suite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
            Suite::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
        }
    }

    /// Master key, then master salt: 16 + 14 bytes, or 16 + 12 for GCM.
    pub fn key_len(self) -> usize {
        16
    }

    pub fn salt_len(self) -> usize {
        match self {
            Suite::AeadAes128Gcm => 12,
            _ => 14,
        }
    }
}

/// The box's own key material for a call: 30 random bytes, of which a suite takes what it
/// needs (key, then salt).
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 30]);

impl MasterKey {
    pub fn random() -> MasterKey {
        let mut k = [0u8; 30];
        for chunk in k.chunks_mut(4) {
            let r = crate::entropy::u32().to_be_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        MasterKey(k)
    }

    /// Key and salt for `suite`.
    pub fn for_suite(&self, suite: Suite) -> &[u8] {
        &self.0[..suite.key_len() + suite.salt_len()]
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// What both sides agreed: the suite, our key and salt (we send with it), theirs (we
/// receive with it).
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub suite: Suite,
    pub local: Vec<u8>,
    pub remote: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("suite", &self.suite).field("keys", &"<redacted>").finish()
    }
}

/// One call's two SRTP contexts.
pub struct Srtp {
    tx: Context,
    rx: Context,
    keys: Keys,
    failures: u32,
    /// The peer's SSRC, from its first authentic packet.
    peer_ssrc: Option<u32>,
}

/// The SSRC of an RTP packet (bytes 8..12) or of an RTCP packet's sender (bytes 4..8).
fn ssrc_at(packet: &[u8], at: usize) -> Option<u32> {
    packet.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn context(suite: Suite, material: &[u8], receiving: bool) -> Result<Context, String> {
    if material.len() != suite.key_len() + suite.salt_len() {
        return Err(format!("{}: a key of {} bytes, not {}", suite.sdes_name(), suite.key_len() + suite.salt_len(), material.len()));
    }
    let (key, salt) = material.split_at(suite.key_len());
    let (rtp, rtcp) =
        if receiving { (Some(srtp_replay_protection(REPLAY_WINDOW)), Some(srtcp_replay_protection(REPLAY_WINDOW))) } else { (None, None) };
    Context::new(key, salt, suite.profile(), rtp, rtcp).map_err(|e| e.to_string())
}

impl Srtp {
    pub fn new(keys: &Keys) -> Result<Srtp, String> {
        Ok(Srtp {
            tx: context(keys.suite, &keys.local, false)?,
            rx: context(keys.suite, &keys.remote, true)?,
            keys: keys.clone(),
            failures: 0,
            peer_ssrc: None,
        })
    }

    /// New keys from a re-INVITE: only the side whose key changed gets a new context, so the
    /// receiving replay window survives when the peer kept its key.
    pub fn rekey(&mut self, keys: &Keys) -> Result<(), String> {
        if keys.suite != self.keys.suite || keys.local != self.keys.local {
            self.tx = context(keys.suite, &keys.local, false)?;
        }
        if keys.suite != self.keys.suite || keys.remote != self.keys.remote {
            self.rx = context(keys.suite, &keys.remote, true)?;
            self.peer_ssrc = None;
            self.failures = 0;
        }
        self.keys = keys.clone();
        Ok(())
    }

    /// An RTP packet to send, encrypted and authenticated.
    pub fn protect_rtp(&mut self, packet: &[u8]) -> Option<bytes::Bytes> {
        self.tx.encrypt_rtp(packet).ok()
    }

    pub fn protect_rtcp(&mut self, packet: &[u8]) -> Option<bytes::Bytes> {
        self.tx.encrypt_rtcp(packet).ok()
    }

    /// A received RTP packet in the clear; None when it fails authentication or is a replay
    /// (the caller counts it as invalid and drops it).
    pub fn unprotect_rtp(&mut self, packet: &[u8]) -> Option<bytes::Bytes> {
        self.unprotect(packet, 8, Context::decrypt_rtp)
    }

    pub fn unprotect_rtcp(&mut self, packet: &[u8]) -> Option<bytes::Bytes> {
        self.unprotect(packet, 4, Context::decrypt_rtcp)
    }

    /// Decrypts a packet whose sender's SSRC is at `ssrc_offset`, if it is the peer's (or no
    /// packet has authenticated yet).
    fn unprotect(
        &mut self,
        packet: &[u8],
        ssrc_offset: usize,
        decrypt: fn(&mut Context, &[u8]) -> Result<bytes::Bytes, webrtc_srtp::Error>,
    ) -> Option<bytes::Bytes> {
        let ssrc = ssrc_at(packet, ssrc_offset)?;
        if self.peer_ssrc.is_some_and(|p| p != ssrc) {
            return None;
        }
        let r = decrypt(&mut self.rx, packet);
        self.outcome(r.is_ok(), ssrc);
        r.ok()
    }

    fn outcome(&mut self, ok: bool, ssrc: u32) {
        if ok {
            self.peer_ssrc.get_or_insert(ssrc);
            return;
        }
        if self.peer_ssrc.is_some() {
            return;
        }
        self.failures += 1;
        if self.failures >= FAILURES_BEFORE_RESET
            && let Ok(fresh) = context(self.keys.suite, &self.keys.remote, true)
        {
            self.rx = fresh;
            self.failures = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 0, (seq >> 8) as u8, seq as u8, 0, 0, 0, 160, 0x11, 0x22, 0x33, 0x44];
        p.extend_from_slice(payload);
        p
    }

    fn pair(suite: Suite) -> (Srtp, Srtp) {
        let (a, b) = (MasterKey::random(), MasterKey::random());
        let ka = Keys { suite, local: a.for_suite(suite).to_vec(), remote: b.for_suite(suite).to_vec() };
        let kb = Keys { suite, local: b.for_suite(suite).to_vec(), remote: a.for_suite(suite).to_vec() };
        (Srtp::new(&ka).unwrap(), Srtp::new(&kb).unwrap())
    }

    #[test]
    fn every_suite_round_trips_and_refuses_tampering_and_replays() {
        for suite in Suite::ALL {
            let (mut a, mut b) = pair(suite);
            let clear = rtp(1, &[0x55; 160]);
            let sealed = a.protect_rtp(&clear).unwrap();
            assert_ne!(&sealed[12..172], &clear[12..], "{suite:?}: the payload is encrypted");
            assert_eq!(&b.unprotect_rtp(&sealed).unwrap()[..], &clear[..], "{suite:?}");
            assert!(b.unprotect_rtp(&sealed).is_none(), "{suite:?}: a replayed packet is refused");
            let mut forged = a.protect_rtp(&rtp(2, &[0x55; 160])).unwrap().to_vec();
            forged[20] ^= 1;
            assert!(b.unprotect_rtp(&forged).is_none(), "{suite:?}: a changed packet is refused");
            assert!(b.unprotect_rtp(&a.protect_rtp(&rtp(3, &[1; 160])).unwrap()).is_some(), "{suite:?}: and the stream goes on");
        }
    }

    #[test]
    fn a_flood_of_forgeries_cannot_reopen_the_replay_window() {
        let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
        let first = a.protect_rtp(&rtp(10, &[3; 160])).unwrap();
        assert!(b.unprotect_rtp(&first).is_some());
        for i in 0..(2 * FAILURES_BEFORE_RESET) {
            let mut junk = rtp(i as u16, &[0; 170]);
            junk[8..12].copy_from_slice(&i.to_be_bytes());
            assert!(b.unprotect_rtp(&junk).is_none());
        }
        assert!(b.unprotect_rtp(&first).is_none(), "the old packet is still a replay");
        assert!(b.unprotect_rtp(&a.protect_rtp(&rtp(11, &[3; 160])).unwrap()).is_some());
    }

    #[test]
    fn rekeying_keeps_the_side_whose_key_did_not_change() {
        let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
        let first = a.protect_rtp(&rtp(20, &[3; 160])).unwrap();
        assert!(b.unprotect_rtp(&first).is_some());
        // b sends with a new key; what it receives is keyed as before.
        let mut keys = b.keys.clone();
        keys.local = MasterKey::random().for_suite(Suite::AesCm128HmacSha1_80).to_vec();
        b.rekey(&keys).unwrap();
        assert!(b.unprotect_rtp(&first).is_none(), "the replay window survived the re-key");
        assert!(b.unprotect_rtp(&a.protect_rtp(&rtp(21, &[3; 160])).unwrap()).is_some());
    }

    #[test]
    fn suites_are_named_as_sdes_names_them_and_keys_never_print() {
        assert_eq!(Suite::from_sdes_name("aes_cm_128_hmac_sha1_32"), Some(Suite::AesCm128HmacSha1_32));
        assert_eq!(Suite::from_sdes_name("F8_128_HMAC_SHA1_80"), None);
        assert_eq!(MasterKey::random().for_suite(Suite::AeadAes128Gcm).len(), 28);
        let k = Keys { suite: Suite::AeadAes128Gcm, local: vec![7; 28], remote: vec![9; 28] };
        assert!(!format!("{k:?}").contains('7') && !format!("{:?}", MasterKey::random()).contains(','));
    }
}
