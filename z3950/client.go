package z3950

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/unicat/unicat/marc"
)

// ClientOptions configure a Client. The zero value is ready to use.
type ClientOptions struct {
	// User and Password are sent as idPass authentication when User is
	// set; Group goes with them.
	User, Password, Group string
	// Charset is proposed in Init (character set negotiation) when not
	// "": usually "utf-8". Targets that do not negotiate ignore it.
	Charset string
	// PreferredMessageSize and MaxRecordSize (exceptionalRecordSize) are
	// asked for in Init; 0 means 4 MiB and the preferred size.
	PreferredMessageSize int
	MaxRecordSize        int
	// Timeout bounds each request when the context has no deadline; 0
	// means one minute.
	Timeout time.Duration
	// ImplementationName is sent in Init; "" means "unicat".
	ImplementationName string
}

// Client is a Z39.50 origin: one association with a target. It is not
// safe for concurrent use; requests are answered in order.
type Client struct {
	conn    net.Conn
	br      *bufio.Reader
	opts    ClientOptions
	db      string
	init    *InitResponse
	charset string
	maxPDU  int
	ref     int
}

// CloseError is a target's Close: the association is over.
type CloseError struct {
	Reason int
	Info   string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("z3950: target closed the association (reason %d): %s", e.Reason, e.Info)
}

// ParseTarget splits a target address "host:port/database" (optionally
// with a "tcp:" or "z3950://" prefix; the database defaults to
// "Default", the port to 210).
func ParseTarget(target string) (addr, db string, err error) {
	s := strings.TrimPrefix(strings.TrimPrefix(target, "z3950://"), "tcp:")
	addr, db, _ = strings.Cut(s, "/")
	if db == "" {
		db = "Default"
	}
	if addr == "" {
		return "", "", fmt.Errorf("z3950: target %q has no host", target)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "210")
	}
	return addr, db, nil
}

// Dial connects to target ("host:port/database") and initialises the
// association.
func Dial(ctx context.Context, target string, opts ClientOptions) (*Client, error) {
	addr, db, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	if opts.PreferredMessageSize <= 0 {
		opts.PreferredMessageSize = 4 << 20
	}
	if opts.MaxRecordSize < opts.PreferredMessageSize {
		opts.MaxRecordSize = opts.PreferredMessageSize
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Minute
	}
	if opts.ImplementationName == "" {
		opts.ImplementationName = "unicat"
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("z3950: dial %s: %w", addr, err)
	}
	c := &Client{conn: conn, br: bufio.NewReader(conn), opts: opts, db: db,
		maxPDU: opts.MaxRecordSize + opts.PreferredMessageSize + 1<<16}
	req := &InitRequest{
		ProtocolVersion:       Version1 | Version2 | Version3,
		Options:               OptSearch | OptPresent | OptDelSet | OptScan | OptSort | OptNamedResultSets,
		PreferredMessageSize:  opts.PreferredMessageSize,
		ExceptionalRecordSize: opts.MaxRecordSize,
		ImplementationID:      "unicat",
		ImplementationName:    opts.ImplementationName,
		ImplementationVersion: "1",
	}
	if opts.User != "" {
		req.Auth = &IDAuthentication{User: opts.User, Password: opts.Password, Group: opts.Group}
	}
	if opts.Charset != "" {
		req.Options |= OptNegotiationModel
		req.OtherInfo = []OtherInfo{charsetProposalFor(opts.Charset)}
	}
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	ir, ok := resp.(*InitResponse)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("z3950: %s answered init with %s", addr, resp.Tag())
	}
	if !ir.Result {
		conn.Close()
		return nil, fmt.Errorf("z3950: %s rejected the association", addr)
	}
	c.init = ir
	c.charset = selectedCharset(ir.OtherInfo)
	return c, nil
}

// Target returns the target's implementation id, name and version.
func (c *Client) Target() (id, name, version string) {
	return c.init.ImplementationID, c.init.ImplementationName, c.init.ImplementationVersion
}

// Charset returns the character set the target selected in negotiation,
// "" when none was negotiated.
func (c *Client) Charset() string { return c.charset }

// Database returns the database searched.
func (c *Client) Database() string { return c.db }

// roundTrip sends req and reads the answer.
func (c *Client) roundTrip(ctx context.Context, req PDU) (PDU, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(c.opts.Timeout)
	}
	c.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Now()) })
	defer stop()
	b, err := EncodePDU(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(b); err != nil {
		return nil, c.ctxErr(ctx, fmt.Errorf("z3950: send %s: %w", req.Tag(), err))
	}
	frame, err := readFrame(c.br, c.maxPDU)
	if err != nil {
		return nil, c.ctxErr(ctx, fmt.Errorf("z3950: read answer to %s: %w", req.Tag(), err))
	}
	resp, err := DecodePDU(frame)
	if err != nil {
		return nil, err
	}
	if cl, ok := resp.(*Close); ok && req.Tag() != TagClose {
		return nil, &CloseError{Reason: cl.Reason, Info: cl.Diagnostic}
	}
	return resp, nil
}

func (c *Client) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

func (c *Client) refID() []byte {
	c.ref++
	return []byte(strconv.Itoa(c.ref))
}

// Search runs a PQF query into the result set name ("" is "default")
// and returns the number of hits. A target's diagnostic is returned as
// a *Diagnostic.
func (c *Client) Search(ctx context.Context, pqf, setName string) (int, error) {
	q, err := ParsePQF(pqf)
	if err != nil {
		return 0, err
	}
	return c.SearchQuery(ctx, &Query{Type: QueryType1, RPN: q}, setName)
}

// SearchQuery runs a query of any type.
func (c *Client) SearchQuery(ctx context.Context, q *Query, setName string) (int, error) {
	if setName == "" {
		setName = "default"
	}
	req := &SearchRequest{
		ReferenceID: c.refID(), SmallSetUpperBound: 0, LargeSetLowerBound: 1, MediumSetPresentNumber: 0,
		ReplaceIndicator: true, ResultSetName: setName, DatabaseNames: []string{c.db}, Query: *q,
	}
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		return 0, err
	}
	sr, ok := resp.(*SearchResponse)
	if !ok {
		return 0, fmt.Errorf("z3950: search answered with %s", resp.Tag())
	}
	if sr.Records != nil && len(sr.Records.Diagnostics) > 0 {
		d := sr.Records.Diagnostics[0]
		return 0, &d
	}
	if !sr.SearchStatus {
		return 0, &Diagnostic{Condition: DiagPermanentSystemError, AddInfo: "search failed without a diagnostic"}
	}
	return sr.ResultCount, nil
}

// Record is one record a target returned, or its surrogate diagnostic.
type Record struct {
	Position   int
	Database   string
	Syntax     OID
	Data       []byte // the octets (USMARC, XML), or the text (SUTRS)
	External   *External
	Diagnostic *Diagnostic
}

// MARC decodes a USMARC or MARCXML record. cs says how to read an ISO
// 2709 record's text: marc.CharsetAuto follows leader/09 (blank is
// MARC-8), anything else overrides it; the result is NFC either way.
func (r Record) MARC(cs marc.Charset) (*marc.Record, error) {
	return r.MARCWith(marc.ReaderOptions{Charset: cs})
}

// MARCWith is MARC with the reader's options (a charset, a size limit).
func (r Record) MARCWith(opts marc.ReaderOptions) (*marc.Record, error) {
	if r.Diagnostic != nil {
		return nil, r.Diagnostic
	}
	opts.Source = fmt.Sprintf("record %d", r.Position)
	switch f, _ := marc.Sniff(r.Data); f {
	case marc.FormatMARCXML:
		return marc.DecodeMARCXML(r.Data, opts)
	case marc.FormatISO2709:
		return marc.DecodeISO2709(r.Data, opts)
	default:
		return nil, fmt.Errorf("z3950: record %d (%s) is neither ISO 2709 nor MARCXML", r.Position, r.Syntax)
	}
}

// Present fetches up to count records of a result set from position
// start. The target may return fewer (message size); NextPosition says
// where to go on, 0 at the end.
func (c *Client) Present(ctx context.Context, setName string, start, count int, syntax OID, elementSet string) (recs []Record, next int, err error) {
	if setName == "" {
		setName = "default"
	}
	req := &PresentRequest{ReferenceID: c.refID(), ResultSetID: setName, Start: start, Count: count,
		ElementSetName: elementSet, PreferredRecordSyntax: syntax}
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	pr, ok := resp.(*PresentResponse)
	if !ok {
		return nil, 0, fmt.Errorf("z3950: present answered with %s", resp.Tag())
	}
	if pr.Records != nil && len(pr.Records.Diagnostics) > 0 {
		d := pr.Records.Diagnostics[0]
		return nil, 0, &d
	}
	if pr.Records != nil {
		for i, npr := range pr.Records.Records {
			r := Record{Position: start + i, Database: npr.Database, Diagnostic: npr.Diagnostic, External: npr.Record}
			if e := npr.Record; e != nil {
				r.Syntax = e.DirectReference
				switch {
				case e.Octets != nil:
					r.Data = e.Octets
				case e.Single != nil:
					if b, err := content(e.Single); err == nil {
						r.Data = b
					}
				}
			}
			recs = append(recs, r)
		}
	}
	if len(recs) == 0 && pr.PresentStatus != PresentSuccess {
		return nil, 0, fmt.Errorf("z3950: present %d+%d returned nothing (status %d)", start, count, pr.PresentStatus)
	}
	return recs, pr.NextResultSetPosition, nil
}

// Retrieve presents records start..start+total-1 of a result set, pageSize
// at a time, calling fn for each (surrogate diagnostics included: see
// Record.Diagnostic).
func (c *Client) Retrieve(ctx context.Context, setName string, start, total, pageSize int, syntax OID, elementSet string, fn func(Record) error) error {
	if pageSize <= 0 {
		pageSize = 50
	}
	end := start + total
	for pos := start; pos < end; {
		recs, next, err := c.Present(ctx, setName, pos, min(pageSize, end-pos), syntax, elementSet)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		switch {
		case len(recs) == 0:
			return fmt.Errorf("z3950: present at %d returned no records", pos)
		case next == 0:
			pos += len(recs)
			if pos < end {
				return nil // the set ended early (it changed on the target)
			}
		default:
			if next <= pos {
				return fmt.Errorf("z3950: target went back from %d to %d", pos, next)
			}
			pos = next
		}
	}
	return nil
}

// Scan lists count terms of the index given by the PQF query's attributes
// around its term, the term at position (1-based).
func (c *Client) Scan(ctx context.Context, pqf string, count, position int) ([]ScanEntry, int, error) {
	q, err := ParsePQF(pqf)
	if err != nil {
		return nil, 0, err
	}
	apt, ok := q.Root.(*AttributesPlusTerm)
	if !ok {
		return nil, 0, errors.New("z3950: scan needs one term with attributes")
	}
	req := &ScanRequest{ReferenceID: c.refID(), DatabaseNames: []string{c.db}, AttributeSet: q.AttributeSet,
		Term: *apt, StepSize: -1, Count: count, PreferredPosition: position, HasPosition: true}
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	sr, ok := resp.(*ScanResponse)
	if !ok {
		return nil, 0, fmt.Errorf("z3950: scan answered with %s", resp.Tag())
	}
	if len(sr.Diagnostics) > 0 {
		d := sr.Diagnostics[0]
		return nil, 0, &d
	}
	return sr.Entries, sr.PositionOfTerm, nil
}

// DeleteResultSets deletes the named result sets, or all of them when no
// name is given, and returns the target's status for each name.
func (c *Client) DeleteResultSets(ctx context.Context, names ...string) ([]ListStatus, error) {
	resp, err := c.roundTrip(ctx, &DeleteResultSetRequest{ReferenceID: c.refID(), All: len(names) == 0, Names: names})
	if err != nil {
		return nil, err
	}
	dr, ok := resp.(*DeleteResultSetResponse)
	if !ok {
		return nil, fmt.Errorf("z3950: delete answered with %s", resp.Tag())
	}
	if len(names) == 0 && dr.Status != DeleteSuccess {
		return nil, fmt.Errorf("z3950: delete all result sets: status %d", dr.Status)
	}
	return dr.Statuses, nil
}

// Close ends the association (Close, finished) and the connection. A
// target that hangs up instead of answering the Close is no error.
func (c *Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.roundTrip(ctx, &Close{ReferenceID: c.refID(), Reason: CloseFinished})
	return c.conn.Close()
}
