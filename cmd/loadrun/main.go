// Command loadrun is the load benchmark behind `make bench`: it runs
// `dialflow phone --load` and `dialflow serve` as separate processes on
// loopback at growing numbers of concurrent calls and prints a Markdown
// table (see BENCHMARKS.md).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/dialflow/dialflow/internal/loadrun"
)

func main() {
	bin := flag.String("bin", "bin/dialflow", "the dialflow binary")
	phoneBin := flag.String("phone-bin", "", "the dialflow binary for the load phone (default: --bin)")
	calls := flag.String("calls", "100,500,1000,2000", "concurrency levels, comma-separated")
	loss := flag.Float64("loss", 0, "far end's random loss of its own packets (0..1)")
	audio := flag.Bool("audio", true, "far end sends silence every 20 ms (false: only its key press)")
	cps := flag.Float64("cps", 0, "dialflow's cap on call attempts per second (0: none)")
	record := flag.Bool("record", false, "record every call (enableCallRecording)")
	tts := flag.String("tts", "espeak", "dialflow's TTS engine: espeak or tones")
	window := flag.Duration("window", 8*time.Second, "CPU measurement window while all calls are up")
	profiles := flag.String("profiles", "", "write a CPU profile of dialflow per level into this directory")
	jsonOut := flag.String("json", "", "also write the rows as JSON to this file")
	flag.Parse()
	var ns []int
	for _, f := range strings.Split(*calls, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "loadrun: --calls: %q is not a positive number\n", f)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rows, err := loadrun.Run(ctx, loadrun.Config{Bin: *bin, PhoneBin: *phoneBin, Calls: ns, Loss: *loss, Audio: *audio, CPS: *cps, Record: *record, TTS: *tts,
		Window: *window, ProfileDir: *profiles, Log: os.Stderr})
	fmt.Print(loadrun.Markdown(rows))
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rows, "", "  ")
		if werr := os.WriteFile(*jsonOut, b, 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "loadrun:", werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		os.Exit(1)
	}
}
