// Package session runs one flow on one answered call. It implements
// flow.Channel on top of a small Call interface (play audio, receive digits,
// hang up, transfer) and a Renderer that turns prompts into 8 kHz audio, and
// applies the gather rules of SPEC §4: barge-in on the first key, the
// timeout after the prompt, the inter-digit timeout, finishOnKey, numDigits
// and type-ahead (keys pressed during a play count for the next gather).
package session
