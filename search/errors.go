package search

import "fmt"

// Error is a query the index cannot answer as asked. Code is the SRU
// diagnostic number (info:srw/diagnostic/1/Code); the Z39.50 server maps it
// to Bib-1 the way YAZ does. Errors of any other type are system errors.
type Error struct {
	Code    int
	Detail  string // what was wrong: the index, relation, term, ...
	Message string // optional explanation for people
}

func (e *Error) Error() string {
	msg := DiagnosticMessage(e.Code)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Message != "" {
		msg += " (" + e.Message + ")"
	}
	return "search: " + msg
}

// SRU diagnostics the query layer produces (info:srw/diagnostic/1/N).
const (
	DiagGeneral                  = 1
	DiagQuerySyntax              = 10
	DiagUnsupportedContextSet    = 15
	DiagUnsupportedIndex         = 16
	DiagUnsupportedRelation      = 19
	DiagUnsupportedRelModifier   = 20
	DiagUnsupportedRelModCombo   = 21
	DiagUnsupportedRelIndex      = 22
	DiagEmptyTerm                = 27
	DiagMaskingNotSupported      = 28
	DiagAnchorPosition           = 32
	DiagInvalidTerm              = 36
	DiagUnsupportedBoolean       = 37
	DiagProxNotSupported         = 39
	DiagUnsupportedProxRelation  = 40
	DiagUnsupportedProxDistance  = 41
	DiagUnsupportedProxUnit      = 42
	DiagUnsupportedProxOrdering  = 43
	DiagUnsupportedBoolModifier  = 46
	DiagQueryFeatureUnsupported  = 48
	DiagMaskingPosition          = 49
	DiagSortNotSupported         = 80
	DiagUnsupportedSortSequence  = 82
	DiagTooManySortKeys          = 84
	DiagUnsupportedSortPath      = 88
	DiagUnsupportedSortDirection = 90
	DiagUnsupportedSortCase      = 91
	DiagUnsupportedMissingValue  = 92
)

// DiagnosticMessage returns the standard text of SRU diagnostic code.
func DiagnosticMessage(code int) string {
	if m, ok := diagMessages[code]; ok {
		return m
	}
	return fmt.Sprintf("diagnostic %d", code)
}

// diagMessages are the titles of the SRU diagnostics list
// (http://www.loc.gov/standards/sru/diagnostics/diagnosticsList.html).
var diagMessages = map[int]string{
	1:   "General system error",
	2:   "System temporarily unavailable",
	3:   "Authentication error",
	4:   "Unsupported operation",
	5:   "Unsupported version",
	6:   "Unsupported parameter value",
	7:   "Mandatory parameter not supplied",
	8:   "Unsupported parameter",
	10:  "Query syntax error",
	11:  "Unsupported query type",
	12:  "Too many characters in query",
	13:  "Invalid or unsupported use of parentheses",
	14:  "Invalid or unsupported use of quotes",
	15:  "Unsupported context set",
	16:  "Unsupported index",
	18:  "Unsupported combination of indexes",
	19:  "Unsupported relation",
	20:  "Unsupported relation modifier",
	21:  "Unsupported combination of relation modifers",
	22:  "Unsupported combination of relation and index",
	23:  "Too many characters in term",
	24:  "Unsupported combination of relation and term",
	26:  "Non special character escaped in term",
	27:  "Empty term unsupported",
	28:  "Masking character not supported",
	29:  "Masked words too short",
	30:  "Too many masking characters in term",
	31:  "Anchoring character not supported",
	32:  "Anchoring character in unsupported position",
	33:  "Combination of proximity/adjacency and masking characters not supported",
	34:  "Combination of proximity/adjacency and anchoring characters not supported",
	35:  "Term contains only stopwords",
	36:  "Term in invalid format for index or relation",
	37:  "Unsupported boolean operator",
	38:  "Too many boolean operators in query",
	39:  "Proximity not supported",
	40:  "Unsupported proximity relation",
	41:  "Unsupported proximity distance",
	42:  "Unsupported proximity unit",
	43:  "Unsupported proximity ordering",
	44:  "Unsupported combination of proximity modifiers",
	46:  "Unsupported boolean modifier",
	47:  "Cannot process query; reason unknown",
	48:  "Query feature unsupported",
	49:  "Masking character in unsupported position",
	50:  "Result sets not supported",
	51:  "Result set does not exist",
	61:  "First record position out of range",
	64:  "Record temporarily unavailable",
	65:  "Record does not exist",
	66:  "Unknown schema for retrieval",
	67:  "Record not available in this schema",
	70:  "Record too large to send",
	71:  "Unsupported record packing",
	80:  "Sort not supported",
	82:  "Unsupported sort sequence",
	83:  "Too many records to sort",
	84:  "Too many sort keys to sort",
	88:  "Unsupported path for sort",
	90:  "Unsupported direction",
	91:  "Unsupported case",
	92:  "Unsupported missing value action",
	110: "Stylesheets not supported",
	111: "Unsupported stylesheet",
	120: "Response position out of range",
	121: "Too many terms requested",
}

func errorf(code int, detail, format string, args ...any) *Error {
	return &Error{Code: code, Detail: detail, Message: fmt.Sprintf(format, args...)}
}
