//! Client transactions and timers: retransmission of our requests (RFC 3261 17.1, timers A,
//! B, E, F), responses matched to them, requests inside a dialog, and registration refresh.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;

pub(super) struct ClientTx {
    pub(super) bytes: Vec<u8>,
    pub(super) dest: SocketAddr,
    pub(super) next: Instant,
    pub(super) interval: Duration,
    pub(super) give_up: Instant,
    pub(super) cseq: u32,
    pub(super) method: &'static str,
}

/// Queues `tx` again when its timer is due, doubling the interval up to T2 (Timers E and G);
/// false once it has been given up, so `retain` drops it.
pub(super) fn retransmit_if_due(tx: &mut ClientTx, now: Instant, to_send: &mut Vec<(Vec<u8>, SocketAddr)>) -> bool {
    if now >= tx.give_up {
        return false;
    }
    if now >= tx.next {
        to_send.push((tx.bytes.clone(), tx.dest));
        tx.interval = (tx.interval * 2).min(T2);
        tx.next = now + tx.interval;
    }
    true
}

/// Server transaction key (RFC 3261 17.2.3): the top Via's branch and sent-by, and the
/// method, with ACK matched to its INVITE. Two peers may pick the same branch (RFC 4475's
/// messages share several): the sent-by keeps their transactions apart.
pub(super) fn transaction_key(req: &Message) -> String {
    let method = match req.method() {
        Some("ACK") => "INVITE",
        Some(m) => m,
        None => "",
    };
    let sent_by: String = crate::sip::message::sent_by_of(req.headers_named("Via").next().unwrap_or_default()).split_whitespace().collect();
    format!("{} {} {}", req.branch(), sent_by.to_ascii_lowercase(), method)
}

impl UserAgent {
    pub(super) async fn on_response(&mut self, resp: Message) {
        let key = resp.call_id().to_string();
        if let Some(reg) = &mut self.registration
            && reg.call_id() == key
        {
            reg.on_response(&resp, Instant::now());
            self.poll_registration().await;
            return;
        }
        let (cseq, method) = resp.cseq();
        let status = resp.status().unwrap_or(0);
        if method == "INVITE" {
            self.on_invite_response(&key, resp).await;
            return;
        }
        let Some(call) = self.calls.get_mut(&key) else { return };
        if status < 200 {
            // Provisional: stop retransmitting on UDP, keep waiting (Timer F still runs).
            for tx in call.client.iter_mut().filter(|t| t.cseq == cseq && t.method == method) {
                tx.next = tx.give_up;
            }
            return;
        }
        call.client.retain(|t| !(t.cseq == cseq && t.method == method));
        match method.as_str() {
            "BYE" => {
                tracing::debug!(call = %call.log_id, status, "BYE answered");
                if call.client.is_empty() {
                    self.forget_call(&key);
                }
            }
            "REFER" if status >= 300 => {
                let _ = call.events.send(LineEvent::TransferResult(Err(format!("REFER refused with {status}"))));
            }
            _ => {}
        }
    }

    /// Sends a request inside the dialog of `key` and retransmits it until answered.
    pub(super) async fn send_in_dialog(&mut self, key: &str, method: &'static str, extra: &[(&str, String)], body: Option<(&str, &[u8])>) {
        let Some((bytes, dest)) = self.in_dialog_request(key, method, None, extra, body) else { return };
        let Some(call) = self.calls.get_mut(key) else { return };
        let now = Instant::now();
        call.client.push(ClientTx {
            bytes: bytes.clone(),
            dest,
            next: now + T1,
            interval: T1,
            give_up: now + TIMER_F,
            cseq: call.local_cseq,
            method,
        });
        // Over the caller's TCP connection when there is one.
        self.send(&bytes, dest).await;
    }

    /// A request inside the dialog of `key` and where it goes. `cseq` None takes the next
    /// local CSeq; an ACK passes its INVITE's.
    pub(super) fn in_dialog_request(
        &mut self,
        key: &str,
        method: &'static str,
        cseq: Option<u32>,
        extra: &[(&str, String)],
        body: Option<(&str, &[u8])>,
    ) -> Option<(Vec<u8>, SocketAddr)> {
        let local = self.socket.local_addr().ok()?;
        let contact = self.calls.get(key).map(|c| self.contact_for(c.source)).unwrap_or_else(|| self.contact());
        let call = self.calls.get(key)?;
        // RFC 3261 12.2.1.1: with a route set, the request goes to its first entry (a proxy that
        // record-routed); without one, to the remote target. A Contact on another host than the
        // one the INVITE came from is taken for a NAT-private address, and the request follows
        // the INVITE's source instead (what symmetric signalling behind NAT needs).
        let target =
            call.invite.header("Contact").map(uri_of).unwrap_or_else(|| call.invite.header("From").map(uri_of).unwrap_or("")).to_string();
        let first_route = call.invite.headers_named("Record-Route").flat_map(crate::sip::message::split_top_level_commas).next();
        // A dialog that came over a stream connection (TCP, TLS) stays on it while it is open:
        // the Contact's port is the peer's listener, which a TLS client may not even have.
        let dest = match first_route {
            Some(route) => uri_socket_addr(uri_of(route)).unwrap_or(call.source),
            None if self.tcp_conns.contains_key(&call.source) => call.source,
            None => uri_socket_addr(&target).filter(|a| a.ip() == call.source.ip()).unwrap_or(call.source),
        };
        let via = self.via_for(dest, local);
        let call = self.calls.get_mut(key)?;
        let cseq = match cseq {
            Some(n) => n,
            None => {
                call.local_cseq += 1;
                call.local_cseq
            }
        };
        let invite = &call.invite;
        let branch = format!("z9hG4bK{:08x}{:08x}", rand_u32(), rand_u32());
        let from = invite
            .header("To")
            .map(|to| if param(to, "tag").is_some() { to.to_string() } else { format!("{to};tag={}", call.local_tag) })
            .unwrap_or_default();
        let to = invite.header("From").unwrap_or("").to_string();
        let mut text = format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/{via};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {} {method}\r\nContact: {contact}\r\n",
            invite.call_id(),
            cseq
        );
        for r in invite.headers_named("Record-Route").flat_map(crate::sip::message::split_top_level_commas) {
            text.push_str(&format!("Route: {}\r\n", r.trim()));
        }
        for (n, v) in extra {
            text.push_str(&format!("{n}: {v}\r\n"));
        }
        let mut bytes = match body {
            Some((ctype, b)) => {
                text.push_str(&format!("Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n", b.len()));
                let mut v = text.into_bytes();
                v.extend_from_slice(b);
                v
            }
            None => {
                text.push_str("Content-Length: 0\r\n\r\n");
                text.into_bytes()
            }
        };
        bytes.shrink_to_fit();
        Some((bytes, dest))
    }

    pub(super) async fn poll_registration(&mut self) {
        let Some(registrar) = self.cfg.registration.as_ref().map(|r| r.registrar) else { return };
        let Ok(local) = self.socket.local_addr() else { return };
        let (contact, via) = (self.contact_for(registrar), self.via_for(registrar, local));
        if let Some(reg) = &mut self.registration
            && let Some((bytes, to)) = reg.poll(Instant::now(), &via, &contact)
        {
            self.send(&bytes, to).await;
        }
    }

    pub(super) async fn on_tick(&mut self) {
        self.poll_registration().await;
        let now = Instant::now();
        let mut to_send: Vec<(Vec<u8>, SocketAddr)> = Vec::new();
        let mut to_answer = Vec::new();
        let mut to_end = Vec::new();
        let mut to_fail: Vec<(String, &'static str)> = Vec::new();
        for (key, call) in self.calls.iter_mut() {
            match &mut call.state {
                CallState::Ringing { answer_at } if now >= *answer_at => to_answer.push(key.clone()),
                CallState::AwaitingAck { response, next, interval, give_up } => {
                    if now >= *give_up {
                        to_end.push((key.clone(), "no ACK for our 200 OK"));
                    } else if now >= *next {
                        to_send.push((response.clone(), call.source));
                        *interval = (*interval * 2).min(T2);
                        *next = now + *interval;
                    }
                }
                _ => {}
            }
            call.client.retain_mut(|tx| retransmit_if_due(tx, now, &mut to_send));
            if let Some(out) = &mut call.outgoing {
                if now >= out.give_up {
                    if out.proceeding && !out.cancelled {
                        // Rang too long: CANCEL, and wait (Timer F) for the 487 that ends it.
                        to_send.push((crate::sip::uac::cancel(&out.request), out.dest));
                        out.cancelled = true;
                        out.give_up = now + TIMER_F;
                    } else {
                        to_fail.push((
                            key.clone(),
                            if out.cancelled { "no answer (cancelled after the ring timeout)" } else { "no response to our INVITE" },
                        ));
                    }
                } else if !out.proceeding && now >= out.next {
                    // Timer A doubles without the T2 cap (RFC 3261 17.1.1.2).
                    to_send.push((out.bytes.clone(), out.dest));
                    out.interval *= 2;
                    out.next = now + out.interval;
                }
                continue;
            }
            if call.media.is_none() && call.client.is_empty() {
                to_end.push((key.clone(), "dialog finished"));
            }
        }
        for (key, why) in to_fail {
            self.fail_outgoing(&key, why.to_string());
        }
        self.unacked.retain(|_, tx| retransmit_if_due(tx, now, &mut to_send));
        for (bytes, dest) in to_send {
            self.send(&bytes, dest).await;
        }
        for key in to_answer {
            self.answer(&key).await;
        }
        for (key, why) in to_end {
            if self.calls.get(&key).is_some_and(|c| c.media.is_some()) {
                self.send_in_dialog(&key, "BYE", &[], None).await;
                self.end_call(&key, why);
            } else {
                self.forget_call(&key);
            }
        }
        // Answers to non-INVITE requests are kept for 64*T1 (Timer J) for retransmissions.
        self.sent.retain(|_, (_, at)| now.duration_since(*at) < TIMER_F);
    }
}
