package huffman_test

import (
	"fmt"

	"github.com/qatgo/qatgo/huffman"
)

func Example() {
	// Symbol counts per 100 characters (the classic a..f table).
	freq := []uint64{45, 13, 12, 16, 9, 5}
	c, err := huffman.New(freq)
	if err != nil {
		fmt.Println(err)
		return
	}
	bits, _ := c.Bits(freq)
	fmt.Println("lengths", c.Lengths(), "average", float64(bits)/100)

	msg := []int32{5, 0, 2, 4} // "face"
	data, nbits, _ := c.Encode(nil, msg)
	fmt.Printf("%d bits: %08b\n", nbits, data)
	back, _ := c.Decode(nil, data, nbits, len(msg))
	fmt.Println(back)
	// Output:
	// lengths [1 3 3 3 4 4] average 2.24
	// 12 bits: [11110101 11100000]
	// [5 0 2 4]
}
