// Package media carries a call's audio. It knows nothing of SIP or flows.
//
// # Internal format
//
// All audio inside dialflow is 16-bit signed PCM, 8000 Hz, mono, in 20 ms
// frames of 160 samples ([SampleRate], [FrameSamples], [FrameDuration]).
// Codecs apply only at the edges: [PCMU] and [PCMA] turn samples into RTP
// payloads and back on caller buffers; [LoadWAV] and [Resample] (polyphase
// windowed-sinc) bring prompt files and speech into the internal format;
// [Tone], [DualTone] and [DTMFTone] generate signals, [Goertzel] measures
// them.
//
// # Streams
//
// A [Stream] is one RTP session on a UDP socket from [ListenRTP]. The SIP
// layer negotiates SDP, then calls [NewStream] with the remote address,
// codec and telephone-event payload type, and [Stream.Start]. From then on
// a [Pacer] sends a packet every 20 ms against absolute deadlines (silence
// when nothing plays); one Pacer can carry many streams. Prompts are played
// with [Stream.Play] or queued with [Stream.Enqueue]; [Stream.StopPlayback]
// is barge-in. [Stream.SendDTMF] sends RFC 4733 events,
// [Stream.SendDTMFInBand] tones.
//
// Received audio is reordered, decoded and checked for in-band DTMF; RFC
// 4733 events are decoded by [EventReceiver]; digits from SIP INFO join via
// [Stream.InjectDigit]. All of them arrive de-duplicated on
// [Stream.Digits], each saying which [DTMFMethod] carried it.
// [Stream.Record] writes a stereo WAV (left = received, right = sent) whose
// header stays valid while the call runs. [Stream.Stats] counts packets,
// loss, lateness, duplicates and everything dropped.
//
// Package media/mediatest has helpers for tests of code built on this one.
package media
