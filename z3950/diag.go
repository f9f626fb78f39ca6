package z3950

import (
	"errors"
	"fmt"

	"github.com/unicat/unicat/search"
)

// Bib-1 diagnostic conditions the server produces.
const (
	DiagPermanentSystemError   = 1
	DiagTemporarySystemError   = 2
	DiagUnsupportedSearch      = 3
	DiagPresentOutOfRange      = 13
	DiagSystemErrorPresenting  = 14
	DiagRecordTooLargePref     = 16
	DiagRecordTooLargeMax      = 17
	DiagResultSetAsTerm        = 18
	DiagResultSetExists        = 21
	DiagElementSetNotValid     = 25
	DiagResultSetMissing       = 30
	DiagQueryTypeUnsupported   = 107
	DiagMalformedQuery         = 108
	DiagOperatorUnsupported    = 110
	DiagUnsupportedAttrType    = 113
	DiagUnsupportedUse         = 114
	DiagUnsupportedRelation    = 117
	DiagUnsupportedStructure   = 118
	DiagUnsupportedPosition    = 119
	DiagUnsupportedTruncation  = 120
	DiagUnsupportedAttrSet     = 121
	DiagUnsupportedComplete    = 122
	DiagUnsupportedCombination = 123
	DiagMalformedTerm          = 125
	DiagIllegalTermValue       = 126
	DiagProxOfSets             = 129
	DiagUnsupportedProxRel     = 131
	DiagUnsupportedProxUnit    = 132
	DiagProxAttributes         = 201
	DiagUnsupportedProxDist    = 202
	DiagProxOrdered            = 203
	DiagZeroStepOnly           = 205
	DiagSortSequence           = 207
	DiagTooManySortKeys        = 211
	DiagIllegalSortRelation    = 214
	DiagESNotSupported         = 221
	DiagTermTypeUnsupported    = 229
	DiagSortTooManyInputs      = 230
	DiagScanPosition           = 233
	DiagDatabaseMissing        = 235
	DiagRecordNotInSyntax      = 238
	DiagSyntaxUnsupported      = 239
	DiagAdditionalRanges       = 243
	DiagRestrictionOperand     = 245
	DiagComplexAttrValue       = 246
)

// bib1Messages are the titles of the Bib-1 diagnostics (Z39.50-2003,
// appendix DIAG) the server can send and the client may well receive.
var bib1Messages = map[int]string{
	1:    "Permanent system error",
	2:    "Temporary system error",
	3:    "Unsupported search",
	4:    "Terms only exclusion (stop) words",
	5:    "Too many argument words",
	6:    "Too many boolean operators",
	7:    "Too many truncated words",
	9:    "Truncated words too short",
	11:   "Too many characters in search statement",
	12:   "Too many records retrieved",
	13:   "Present request out of range",
	14:   "System error in presenting records",
	16:   "Record exceeds Preferred-message-size",
	17:   "Record exceeds Exceptional-record-size",
	18:   "Result set not supported as a search term",
	21:   "Result set exists and replace indicator off",
	22:   "Result set naming not supported",
	23:   "Combination of specified databases not supported",
	25:   "Specified element set name not valid for specified database",
	27:   "Result set no longer exists - unilaterally deleted by target",
	30:   "Specified result set does not exist",
	31:   "Resources exhausted - no results available",
	100:  "Unspecified error",
	107:  "Query type not supported",
	108:  "Malformed query",
	109:  "Database unavailable",
	110:  "Operator unsupported",
	111:  "Too many databases specified",
	112:  "Too many result sets created",
	113:  "Unsupported attribute type",
	114:  "Unsupported Use attribute",
	115:  "Unsupported value for Use attribute",
	116:  "Use attribute required but not supplied",
	117:  "Unsupported Relation attribute",
	118:  "Unsupported Structure attribute",
	119:  "Unsupported Position attribute",
	120:  "Unsupported Truncation attribute",
	121:  "Unsupported Attribute Set",
	122:  "Unsupported Completeness attribute",
	123:  "Unsupported attribute combination",
	124:  "Unsupported coded value for term",
	125:  "Malformed search term",
	126:  "Illegal term value for attribute",
	128:  "Illegal result set name",
	129:  "Proximity search of sets not supported",
	130:  "Illegal result set in proximity search",
	131:  "Unsupported proximity relation",
	132:  "Unsupported proximity unit code",
	201:  "Proximity not supported with this attribute combination",
	202:  "Unsupported distance for proximity",
	203:  "Ordered flag not supported for proximity",
	205:  "Only zero step size supported for Scan",
	206:  "Specified step size not supported for Scan",
	207:  "Cannot sort according to sequence",
	208:  "No result set name supplied on Sort",
	211:  "Too many sort keys",
	214:  "Illegal sort relation",
	221:  "ES: extended service type not supported",
	227:  "No data available in requested record syntax",
	228:  "Scan: malformed scan",
	229:  "Term type not supported",
	230:  "Sort: too many input results",
	232:  "Scan: term list not supported",
	233:  "Scan: unsupported value of position-in-response",
	235:  "Database does not exist",
	237:  "Sort: illegal sort",
	238:  "Record not available in requested syntax",
	239:  "Record syntax not supported",
	241:  "Scan: Beginning or end of term list",
	243:  "Present: additional-ranges parameter not supported",
	244:  "Present: comp-spec parameter not supported",
	245:  "Type-1 query: restriction ('resultAttr') operand not supported",
	246:  "Type-1 query: 'complex' attributeValue not supported",
	247:  "Type-1 query: 'attributeSet' as part of AttributeElement not supported",
	1001: "Malformed APDU",
	1024: "Unsupported Attribute",
}

// Bib1Message returns the title of Bib-1 diagnostic condition code.
func Bib1Message(code int) string {
	if m, ok := bib1Messages[code]; ok {
		return m
	}
	return fmt.Sprintf("diagnostic %d", code)
}

// sruToBib1 maps the SRU diagnostics the search package returns onto
// Bib-1 conditions, as Z39.50/SRU gateways (YAZ) do.
var sruToBib1 = map[int]int{
	search.DiagGeneral:                  DiagPermanentSystemError,
	search.DiagQuerySyntax:              DiagMalformedQuery,
	search.DiagUnsupportedContextSet:    DiagUnsupportedAttrSet,
	search.DiagUnsupportedIndex:         DiagUnsupportedUse,
	search.DiagUnsupportedRelation:      DiagUnsupportedRelation,
	search.DiagUnsupportedRelModifier:   DiagUnsupportedRelation,
	search.DiagUnsupportedRelModCombo:   DiagUnsupportedCombination,
	search.DiagUnsupportedRelIndex:      DiagUnsupportedCombination,
	search.DiagEmptyTerm:                DiagMalformedTerm,
	search.DiagMaskingNotSupported:      DiagUnsupportedTruncation,
	search.DiagAnchorPosition:           DiagUnsupportedPosition,
	search.DiagInvalidTerm:              DiagIllegalTermValue,
	search.DiagUnsupportedBoolean:       DiagOperatorUnsupported,
	search.DiagProxNotSupported:         DiagProxAttributes,
	search.DiagUnsupportedProxRelation:  DiagUnsupportedProxRel,
	search.DiagUnsupportedProxDistance:  DiagUnsupportedProxDist,
	search.DiagUnsupportedProxUnit:      DiagUnsupportedProxUnit,
	search.DiagUnsupportedProxOrdering:  DiagProxOrdered,
	search.DiagUnsupportedBoolModifier:  DiagOperatorUnsupported,
	search.DiagQueryFeatureUnsupported:  DiagUnsupportedSearch,
	search.DiagMaskingPosition:          DiagUnsupportedTruncation,
	search.DiagSortNotSupported:         DiagSortSequence,
	search.DiagUnsupportedSortSequence:  DiagSortSequence,
	search.DiagTooManySortKeys:          DiagTooManySortKeys,
	search.DiagUnsupportedSortPath:      DiagSortSequence,
	search.DiagUnsupportedSortDirection: DiagIllegalSortRelation,
}

// diagnosticFor turns an error of the search core into a Bib-1
// diagnostic; system is false for the user's errors (a query the index
// cannot answer).
func diagnosticFor(err error) (d *Diagnostic, system bool) {
	var de *Diagnostic
	if errors.As(err, &de) {
		return de, false
	}
	var se *search.Error
	if errors.As(err, &se) {
		code, ok := sruToBib1[se.Code]
		if !ok {
			code = DiagUnsupportedSearch
		}
		info := se.Detail
		if se.Message != "" {
			if info != "" {
				info += ": "
			}
			info += se.Message
		}
		return &Diagnostic{Condition: code, AddInfo: info}, false
	}
	if errors.Is(err, search.ErrNeedsRebuild) {
		return &Diagnostic{Condition: DiagTemporarySystemError, AddInfo: "the index is being rebuilt"}, true
	}
	return &Diagnostic{Condition: DiagPermanentSystemError, AddInfo: "internal error"}, true
}
