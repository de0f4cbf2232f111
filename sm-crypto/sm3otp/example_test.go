package sm3otp_test

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tongban/tongban/sm-crypto/sm3otp"
)

// A token's password at a fixed time: 60-second periods, 6 digits (the defaults).
func ExampleGenerate() {
	key, _ := hex.DecodeString("1234567890abcdef1234567890abcdef")
	p, err := sm3otp.Generate(key, time.Unix(1234567890, 0), sm3otp.Opts{})
	fmt.Println(p, err)
	// Output: 235605 <nil>
}

// The event and challenge factors, as a challenge-response token uses them.
func ExampleCompute() {
	key, _ := hex.DecodeString("1234567890abcdef1234567890abcdef")
	c := uint32(1)
	p, err := sm3otp.Compute(key, sm3otp.Factors{C: &c, Q: []byte("12345678")}, 6)
	fmt.Println(p, err)
	// Output: 406431 <nil>
}
