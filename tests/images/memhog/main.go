// SPDX-License-Identifier: Apache-2.0

// Command memhog allocates and touches memory, then sleeps: a test image for
// memory limits. Usage: memhog <MiB> [step MiB per second].
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	total, step := 64, 0
	if len(os.Args) > 1 {
		total, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		step, _ = strconv.Atoi(os.Args[2])
	}
	var chunks [][]byte
	for got := 0; got < total; {
		n := total - got
		if step > 0 && n > step {
			n = step
		}
		b := make([]byte, n<<20)
		for i := range b {
			b[i] = byte(i)
		}
		chunks = append(chunks, b)
		got += n
		fmt.Printf("allocated %d MiB\n", got)
		if step > 0 {
			time.Sleep(time.Second)
		}
	}
	fmt.Println("holding")
	for {
		time.Sleep(time.Hour)
		_ = chunks
	}
}
