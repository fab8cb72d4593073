package nn

import (
	"encoding/binary"
	"fmt"
)

// MarshalRNG returns the state of the generators the training graph draws
// from (dropout masks), for checkpoints: a resumed run restores it with
// UnmarshalRNG and draws what an uninterrupted run would. Layout: u32
// count, then per dropout layer u16 name length, name, u16 state length,
// state. A model without dropout gives a 4-byte empty record.
func (n *Net) MarshalRNG() ([]byte, error) {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, uint32(len(n.dropouts)))
	for _, m := range n.dropouts {
		st, err := m.d.MarshalRNG()
		if err != nil {
			return nil, err
		}
		b = le.AppendUint16(b, uint16(len(m.d.LayerName)))
		b = append(b, m.d.LayerName...)
		b = le.AppendUint16(b, uint16(len(st)))
		b = append(b, st...)
	}
	return b, nil
}

// UnmarshalRNG restores MarshalRNG's output; the layers must match by name
// and order. Nothing changes on error.
func (n *Net) UnmarshalRNG(b []byte) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: generator state: %s", ErrState, fmt.Sprintf(format, a...))
	}
	le := binary.LittleEndian
	if len(b) < 4 {
		return bad("%d bytes", len(b))
	}
	if c := le.Uint32(b); c != uint32(len(n.dropouts)) {
		return bad("%d dropout layers, model has %d", c, len(n.dropouts))
	}
	b = b[4:]
	next := func() ([]byte, bool) {
		if len(b) < 2 || len(b) < 2+int(le.Uint16(b)) {
			return nil, false
		}
		k := int(le.Uint16(b))
		v := b[2 : 2+k]
		b = b[2+k:]
		return v, true
	}
	states := make([][]byte, len(n.dropouts))
	for i, m := range n.dropouts {
		name, ok1 := next()
		st, ok2 := next()
		if !ok1 || !ok2 {
			return bad("truncated at layer %d", i)
		}
		if string(name) != m.d.LayerName {
			return bad("layer %d is %q, model has %q", i, name, m.d.LayerName)
		}
		states[i] = st
	}
	if len(b) != 0 {
		return bad("%d trailing bytes", len(b))
	}
	old := make([][]byte, len(n.dropouts))
	for i, m := range n.dropouts {
		old[i], _ = m.d.MarshalRNG()
	}
	for i, m := range n.dropouts {
		if err := m.d.UnmarshalRNG(states[i]); err != nil {
			for j := 0; j < i; j++ {
				n.dropouts[j].d.UnmarshalRNG(old[j])
			}
			return err
		}
	}
	return nil
}
