package tts_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dialflow/dialflow/tts"
)

// A Cache in front of an engine renders each prompt once; later renders
// of the same text and voice come from disk.
func ExampleCache() {
	engine := tts.SynthesizerFunc(func(ctx context.Context, text string, v tts.Voice) ([]int16, error) {
		return make([]int16, 80*len(text)), nil // 10 ms of silence per character
	})
	dir, _ := os.MkdirTemp("", "tts-cache")
	defer os.RemoveAll(dir)
	cache, err := tts.NewCache(engine, dir, "example", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		if _, err := cache.Synthesize(context.Background(), "thanks Alex", tts.DefaultVoice()); err != nil {
			fmt.Println(err)
		}
	}
	st := cache.Stats()
	fmt.Println("misses:", st.Misses, "hits:", st.Hits)
	// Output: misses: 1 hits: 2
}
