package api

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestContentTypeMustBeJSON(t *testing.T) {
	s := startServer(t, nil)
	body := seedBody(t)
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/json;;;=", "json"} {
		r := s.do(http.MethodPost, "/call", keyA, ct, body)
		if r.code != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415", ct, r.code)
			continue
		}
		if msg := r.errMessage(t); !strings.Contains(msg, "application/json") {
			t.Errorf("Content-Type %q: message %q should say what is expected", ct, msg)
		}
	}
	for i, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "application/problem+json"} {
		b := mutate(t, body, "requestId", fmt.Sprintf("ct-%d", i))
		if r := s.do(http.MethodPost, "/call", keyA, ct, b); r.code != http.StatusOK {
			t.Errorf("Content-Type %q: %d, want 200: %s", ct, r.code, r.body)
		}
	}
	if n := s.be.submitCount(); n != 3 {
		t.Fatalf("submits = %d, want 3", n)
	}
}

func TestBodyLimitBoundary(t *testing.T) {
	body := seedBody(t)
	s := startServer(t, func(c *Config) { c.BodyLimit = int64(len(body)) })
	if r := s.postJSON("/call", keyA, body); r.code != http.StatusOK {
		t.Fatalf("body at the limit: %d %s", r.code, r.body)
	}
	over := append(append([]byte(nil), body...), ' ')
	r := s.postJSON("/call", keyA, over)
	if r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("one byte over: %d, want 413", r.code)
	}
	if msg := r.errMessage(t); !strings.Contains(msg, fmt.Sprint(len(body))) {
		t.Errorf("413 message %q should give the limit", msg)
	}
}

// rawRequest writes an HTTP/1.1 request head on a fresh connection.
func rawRequest(t *testing.T, addr, head string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestTwentyMegabyteBodyRefusedWithoutReadingIt declares a 20 MB body but
// sends only 64 KiB of it: the server must answer 413 from the
// Content-Length alone and end the connection, instead of waiting for the
// rest.
func TestTwentyMegabyteBodyRefusedWithoutReadingIt(t *testing.T) {
	s := startServer(t, nil)
	for _, key := range []string{keyA, "not-a-key"} {
		conn := rawRequest(t, s.addr, fmt.Sprintf("POST /call HTTP/1.1\r\nHost: test\r\n"+
			"Content-Type: application/json\r\n%s: %s\r\nContent-Length: %d\r\n\r\n", HeaderAPIKey, key, 20<<20))
		if _, err := conn.Write(bytes.Repeat([]byte(" "), 64<<10)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("no response while most of the body is unsent: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want := http.StatusRequestEntityTooLarge
		if key != keyA {
			want = http.StatusUnauthorized // auth comes first; the body is not read either
		}
		if res.StatusCode != want {
			t.Fatalf("key %q: status %d, want %d: %s", key, res.StatusCode, want, b)
		}
		if !bytes.Contains(b, []byte(`"status":"error"`)) {
			t.Fatalf("body %s", b)
		}
		if want == http.StatusRequestEntityTooLarge && !bytes.Contains(b, []byte("20971520")) {
			t.Errorf("413 message should give the declared size: %s", b)
		}
		// The server ends the connection rather than drain 20 MB.
		if _, err := br.ReadByte(); err == nil {
			t.Fatal("connection still open after refusing the body")
		}
	}
	if n := s.be.submitCount(); n != 0 {
		t.Fatalf("%d submits", n)
	}
}

// TestChunkedBodyCutOffAtTheLimit streams a 20 MB chunked body (no
// Content-Length) against a 1 MiB limit: the server answers 413 and closes
// the connection, so the sender cannot push all 20 MB.
func TestChunkedBodyCutOffAtTheLimit(t *testing.T) {
	s := startServer(t, func(c *Config) { c.BodyLimit = 1 << 20 })
	conn := rawRequest(t, s.addr, fmt.Sprintf("POST /call HTTP/1.1\r\nHost: test\r\n"+
		"Content-Type: application/json\r\n%s: %s\r\nTransfer-Encoding: chunked\r\n\r\n", HeaderAPIKey, keyA))
	const total = 20 << 20
	sent := make(chan int, 1)
	go func() {
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		n := 0
		for n < total {
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				break
			}
			n += len(chunk)
		}
		sent <- n
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(b, []byte("over the limit")) {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	if n := <-sent; n >= total {
		t.Fatalf("the whole 20 MB body was accepted by the connection (%d bytes)", n)
	}
	if n := s.be.submitCount(); n != 0 {
		t.Fatalf("%d submits", n)
	}
}
