#ifndef TIMEBOK_CLIBXML2_SHIM_H
#define TIMEBOK_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU; its headers then pull in ICU headers that clash with Foundation's
// own ICU in a clean build. timebok never uses libxml2's ICU API, so hide it.
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlschemas.h>
#include <libxml/c14n.h>
#include <libxml/catalog.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlsave.h>
#include <libxml/uri.h>

// xmlFree is a global function pointer variable, which Swift 6 refuses to call (shared mutable state).
static inline void timebok_xmlFree(void *ptr) { xmlFree(ptr); }

// Visibility callback for xmlC14NExecute: hides `user_data` (an element) and its whole subtree.
// Namespace nodes are passed as xmlNsPtr; both structs keep `type` as their second field, so the
// check below is how libxml2 itself tells them apart.
static inline int timebok_c14n_exclude_subtree(void *user_data, xmlNodePtr node, xmlNodePtr parent) {
    xmlNodePtr excluded = (xmlNodePtr)user_data;
    if (excluded == NULL) return 1;
    xmlNodePtr cursor = (node != NULL && node->type != XML_NAMESPACE_DECL) ? node : parent;
    while (cursor != NULL) {
        if (cursor == excluded) return 0;
        cursor = cursor->parent;
    }
    return 1;
}

// Visibility callback for xmlC14NExecute: shows only `user_data` (an element) and its subtree, with
// the namespace and attribute nodes of its elements (XMLDSig canonicalizes SignedInfo this way).
static inline int timebok_c14n_only_subtree(void *user_data, xmlNodePtr node, xmlNodePtr parent) {
    xmlNodePtr apex = (xmlNodePtr)user_data;
    xmlNodePtr cursor = (node != NULL && node->type != XML_NAMESPACE_DECL) ? node : parent;
    while (cursor != NULL) {
        if (cursor == apex) return 1;
        cursor = cursor->parent;
    }
    return 0;
}

#endif
