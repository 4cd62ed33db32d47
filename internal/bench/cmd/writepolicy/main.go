package main

import (
	"os"
	"strconv"

	"github.com/voicewall/voicewall/internal/bench"
)

func main() {
	n, _ := strconv.Atoi(os.Args[2])
	if err := bench.WritePolicy(os.Args[1], n); err != nil {
		panic(err)
	}
}
