package sru

import (
	"strconv"

	"github.com/unicat/unicat/marc"
)

// xmlBuf builds a response. Elements are written in the order the SRU
// schemas define; a small builder keeps that order visible in the code.
type xmlBuf struct {
	b []byte
}

func (x *xmlBuf) raw(s string)      { x.b = append(x.b, s...) }
func (x *xmlBuf) rawBytes(b []byte) { x.b = append(x.b, b...) }

// open writes <name attr="value"...>; attrs are name, value pairs.
func (x *xmlBuf) open(name string, attrs ...string) {
	x.b = append(x.b, '<')
	x.b = append(x.b, name...)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.b = append(x.b, ' ')
		x.b = append(x.b, attrs[i]...)
		x.b = append(x.b, `="`...)
		x.b = marc.AppendXMLText(x.b, attrs[i+1])
		x.b = append(x.b, '"')
	}
	x.b = append(x.b, '>')
}

func (x *xmlBuf) close(name string) {
	x.b = append(x.b, "</"...)
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

// elem writes <name>text</name>.
func (x *xmlBuf) elem(name, text string, attrs ...string) {
	x.open(name, attrs...)
	x.b = marc.AppendXMLText(x.b, text)
	x.close(name)
}

func (x *xmlBuf) intElem(name string, n int) {
	x.open(name)
	x.b = strconv.AppendInt(x.b, int64(n), 10)
	x.close(name)
}

// empty writes <name attr=.../>.
func (x *xmlBuf) empty(name string, attrs ...string) {
	x.open(name, attrs...)
	x.b[len(x.b)-1] = '/'
	x.b = append(x.b, '>')
}

func (x *xmlBuf) text(s string) { x.b = marc.AppendXMLText(x.b, s) }
