// Package web is unicat's web page for people: a search form over the
// union catalog (simple words, or CQL for experts) with facets, sorting and
// paging; a record page showing the union record in readable form, its
// holding libraries with call numbers and its MARC fields, with downloads in
// ISO 2709 and MARCXML; and the harvest status of every source.
//
// Pages are rendered on the server from html/template files embedded in the
// binary: no build step, no JavaScript. The interface is Vietnamese by
// default and English on request (?lang=en, remembered in a cookie, or the
// browser's Accept-Language). Every URL is stable and shareable:
//
//	/search?q=…&sort=…&page=…&library=…&level=…&year=…&language=…&type=…
//	/record/{union id}
//	/record/{union id}/marcxml
//	/record/{union id}/iso2709
//	/status
package web
