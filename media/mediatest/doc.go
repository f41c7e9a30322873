// Package mediatest is a test kit for code built on package media: real
// loopback RTP stream pairs, tone measurement (Goertzel), in-band digit
// detection over whole recordings, and stereo WAV reading for checking
// call recordings. It is meant for tests only.
package mediatest
