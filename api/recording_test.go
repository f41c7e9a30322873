package api

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// writeWAV writes a small valid 8 kHz stereo 16-bit WAV file and returns its path.
func writeWAV(t *testing.T) string {
	t.Helper()
	const frames = 800
	data := make([]byte, frames*4)
	for i := range frames {
		binary.LittleEndian.PutUint16(data[i*4:], uint16(i*37))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(2), uint32(8000), uint32(32000), uint16(4), uint16(16)})
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	p := filepath.Join(t.TempDir(), "call.wav")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRecordingStreamsWAVToItsOwnerOnly(t *testing.T) {
	s := startServer(t, nil)
	wav := writeWAV(t)
	want, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(t.TempDir(), "deleted.wav")
	s.be.set(func(f *fakeBackend) {
		f.recordings["c-123"] = [2]string{OwnerID(keyA), wav}
		f.recordings["c-gone"] = [2]string{OwnerID(keyA), gone}
		f.recordings["c-dir"] = [2]string{OwnerID(keyA), t.TempDir()}
	})

	r := s.do(http.MethodGet, "/recordings/c-123.wav", keyA, "", nil)
	if r.code != http.StatusOK {
		t.Fatalf("owner: %d %s", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "audio/wav" {
		t.Errorf("Content-Type %q, want audio/wav", ct)
	}
	if !bytes.Equal(r.body, want) {
		t.Fatalf("got %d bytes, want the file's %d", len(r.body), len(want))
	}

	// Range requests work (players seek).
	req, _ := http.NewRequest(http.MethodGet, s.url+"/recordings/c-123.wav", nil)
	req.Header.Set(HeaderAPIKey, keyA)
	req.Header.Set("Range", "bytes=0-11")
	res, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var part bytes.Buffer
	_, _ = part.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || part.String() != string(want[:12]) {
		t.Fatalf("range: %d %q", res.StatusCode, part.String())
	}

	for _, c := range []struct{ key, path string }{
		{keyB, "/recordings/c-123.wav"},   // another key
		{keyA, "/recordings/c-123"},       // no .wav
		{keyA, "/recordings/c-123.mp3"},   // other suffix
		{keyA, "/recordings/.wav"},        // empty id
		{keyA, "/recordings/unknown.wav"}, // no such call
		{keyA, "/recordings/c-gone.wav"},  // file missing on disk
		{keyA, "/recordings/c-dir.wav"},   // not a regular file
	} {
		r := s.do(http.MethodGet, c.path, c.key, "", nil)
		if r.code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", c.path, r.code)
			continue
		}
		r.errMessage(t)
	}
}
