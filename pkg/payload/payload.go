// SPDX-License-Identifier: Apache-2.0

// Package payload reads the compressed bundle appended to the wren binary
// (runc, the containerd shim, CNI plugins, crictl, the pause image) and
// extracts it, hash-verified, to <data-dir>/data/<hash>/ with an atomically
// switched data/current link.
//
// Layout of the binary: [ELF][payload: zstd-compressed tar][trailer].
// The trailer is 64 bytes: 16 bytes magic, 8 bytes payload size (little
// endian), 32 bytes sha256 of the payload, 8 bytes reserved.
package payload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// Magic opens the trailer.
var Magic = [16]byte{'W', 'R', 'E', 'N', '-', 'P', 'A', 'Y', 'L', 'O', 'A', 'D', '-', 'v', '1', 0}

// TrailerSize is the size of the trailer at the end of the binary.
const TrailerSize = 64

// ErrNoPayload means the binary carries no payload (it was built with plain
// `go build`, not scripts/build.sh).
var ErrNoPayload = errors.New("this wren binary carries no payload: build it with scripts/build.sh (make build)")

// Payload locates the bundle inside a binary.
type Payload struct {
	path   string
	offset int64
	size   int64
	sum    [32]byte
}

// Open reads the trailer of the binary at path.
func Open(path string) (*Payload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < TrailerSize {
		return nil, ErrNoPayload
	}
	var t [TrailerSize]byte
	if _, err := f.ReadAt(t[:], fi.Size()-TrailerSize); err != nil {
		return nil, err
	}
	if !bytes.Equal(t[:16], Magic[:]) {
		return nil, ErrNoPayload
	}
	p := &Payload{path: path, size: int64(binary.LittleEndian.Uint64(t[16:24]))}
	copy(p.sum[:], t[24:56])
	p.offset = fi.Size() - TrailerSize - p.size
	if p.size <= 0 || p.offset <= 0 {
		return nil, fmt.Errorf("%s: payload trailer is corrupt", path)
	}
	return p, nil
}

// Hash names the payload: the first 16 hex digits of its sha256.
func (p *Payload) Hash() string { return hex.EncodeToString(p.sum[:])[:16] }

// reader returns the compressed payload bytes and a check of their sha256,
// to be called once the reader is drained.
func (p *Payload) reader() (io.Reader, func() error, io.Closer, error) {
	f, err := os.Open(p.path)
	if err != nil {
		return nil, nil, nil, err
	}
	h := sha256.New()
	r := io.TeeReader(io.NewSectionReader(f, p.offset, p.size), h)
	verify := func() error {
		var got [32]byte
		copy(got[:], h.Sum(nil))
		if got != p.sum {
			return fmt.Errorf("payload in %s is corrupt: sha256 mismatch", p.path)
		}
		return nil
	}
	return r, verify, f, nil
}

// Append writes payload and its trailer to the end of the binary at path.
func Append(path string, payload []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	var t [TrailerSize]byte
	copy(t[:16], Magic[:])
	binary.LittleEndian.PutUint64(t[16:24], uint64(len(payload)))
	sum := sha256.Sum256(payload)
	copy(t[24:56], sum[:])
	if _, err := f.Write(payload); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(t[:]); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
