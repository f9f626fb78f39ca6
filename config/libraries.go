package config

import (
	"regexp"
	"sort"
	"strings"
)

// Library is one library of the network as holdings name it: the code in
// 852 $a, the OAI set library:CODE, and what a reader sees for it.
//
// Every source's own library (library_code, name, level, org_code) is a
// library of the network; the libraries section adds the others, the
// holders a source of many libraries reports (another union catalog, a
// consortium's Koha), and may describe a source's library further.
type Library struct {
	Code  string `yaml:"code"`
	Name  string `yaml:"name"`
	Level string `yaml:"level"`
	// OrgCode is the library's MARC organization code (MARC Code List for
	// Organizations, or the national ISIL-style code), the prefix of the
	// 035 a union record gives each of the library's records:
	// "(VN-NAVINH)000457". Default: Code.
	OrgCode string `yaml:"org_code"`
	// Address is shown to readers (optional).
	Address string `yaml:"address"`
}

// orgCodePattern is what a MARC organization code may hold: letters,
// digits and the separators ISIL uses. Parentheses would end the 035
// prefix early.
var orgCodePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:/-]{0,31}$`)

// holderPattern is a subfield code.
var holderPattern = regexp.MustCompile(`^[a-z0-9]$`)

// Library returns the description of a library code: its entry in the
// libraries section, completed by the first source whose library it is
// (name and level when the entry leaves them out; the source's org_code
// when the entry has none).
func (c *Config) Library(code string) (Library, bool) {
	var lib Library
	found := false
	for _, l := range c.Libraries {
		if l.Code == code {
			lib, found = l, true
			break
		}
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.LibraryCode != code {
			continue
		}
		if !found {
			lib, found = Library{Code: code, Name: s.Name, Level: s.Level}, true
		}
		if lib.OrgCode == "" {
			lib.OrgCode = s.OrgCode
		}
		break
	}
	if found && lib.OrgCode == "" {
		lib.OrgCode = lib.Code
	}
	return lib, found
}

// LibraryList returns every library of the network (the libraries
// section's and the sources' own), described as Library does, by code.
func (c *Config) LibraryList() []Library {
	seen := map[string]bool{}
	var out []Library
	add := func(code string) {
		if code == "" || seen[code] {
			return
		}
		seen[code] = true
		if l, ok := c.Library(code); ok {
			out = append(out, l)
		}
	}
	for _, l := range c.Libraries {
		add(l.Code)
	}
	for i := range c.Sources {
		add(c.Sources[i].LibraryCode)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// SourceOrgCode returns the MARC organization code of a source's library:
// its own org_code, else its library's.
func (c *Config) SourceOrgCode(s *Source) string {
	if s.OrgCode != "" {
		return s.OrgCode
	}
	if l, ok := c.Library(s.LibraryCode); ok {
		return l.OrgCode
	}
	return s.LibraryCode
}

func (v *validator) validateLibraries(c *Config) {
	seen := map[string]int{}
	for i := range c.Libraries {
		l := &c.Libraries[i]
		at := func(field string) []any { return []any{"libraries", i, field} }
		switch {
		case l.Code == "":
			v.add(at("code"), "is required")
		case strings.ContainsAny(l.Code, " \t\r\n"):
			v.add(at("code"), "%q must not contain white space", l.Code)
		default:
			if j, dup := seen[l.Code]; dup {
				v.add(at("code"), "%q is already described by libraries[%d]", l.Code, j)
			}
			seen[l.Code] = i
		}
		if strings.TrimSpace(l.Name) == "" {
			v.add(at("name"), "is required")
		}
		if !oneOf(l.Level, validLevels) {
			v.add(at("level"), "%q is not one of %s", l.Level, quoteList(validLevels))
		}
		if l.OrgCode != "" && !orgCodePattern.MatchString(l.OrgCode) {
			v.add(at("org_code"), "%q is not a MARC organization code (letters, digits, '-', ':', '/'; at most 32)", l.OrgCode)
		}
		// A source's library described here too must agree with it.
		for j := range c.Sources {
			s := &c.Sources[j]
			if s.LibraryCode != l.Code {
				continue
			}
			if s.Level != "" && l.Level != "" && s.Level != l.Level {
				v.add([]any{"sources", j, "level"}, "%q, but libraries[%d] says %s is %q", s.Level, i, l.Code, l.Level)
			}
			if s.OrgCode != "" && l.OrgCode != "" && s.OrgCode != l.OrgCode {
				v.add([]any{"sources", j, "org_code"}, "%q, but libraries[%d] says %s is %q", s.OrgCode, i, l.Code, l.OrgCode)
			}
		}
	}
}

// validateHolder checks the settings of a source of many libraries.
func (v *validator) validateHolder(c *Config, s *Source, at func(string) []any) {
	if s.OrgCode != "" && !orgCodePattern.MatchString(s.OrgCode) {
		v.add(at("org_code"), "%q is not a MARC organization code (letters, digits, '-', ':', '/'; at most 32)", s.OrgCode)
	}
	if s.Holder != "" && !holderPattern.MatchString(s.Holder) {
		v.add(at("holder"), "%q is not a subfield code (one of a-z, 0-9): the subfield of each %s naming its holding library", s.Holder, s.Holdings)
	}
	if len(s.HolderCodes) > 0 && s.Holder == "" {
		v.add(at("holder_codes"), "is only used with holder (the source names its holders)")
	}
	codes := make([]string, 0, len(s.HolderCodes))
	for from := range s.HolderCodes {
		codes = append(codes, from)
	}
	sort.Strings(codes)
	for _, from := range codes {
		to := s.HolderCodes[from]
		switch {
		case strings.TrimSpace(from) == "":
			v.add(at("holder_codes"), "a code to map must not be blank")
		case to == "":
			v.add(append(at("holder_codes"), from), "must name a library")
		default:
			if _, ok := c.Library(to); !ok {
				v.add(append(at("holder_codes"), from), "%q is not a library of the network (a source's library_code or a libraries entry)", to)
			}
		}
	}
	if s.Barcodes && s.Holdings != "952" {
		v.add(at("barcodes"), "is only used with holdings: \"952\" (Koha items; an 852 $p passes through as sent)")
	}
}
