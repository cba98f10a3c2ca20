/* Golden tests of the domain XML model.
 *
 *   tests/data/xml2xml/NAME.xml      -> NAME.out.xml  (parse + validate + format, inactive)
 *                                       and NAME.out.xml must format back to itself
 *   tests/data/xml-invalid/NAME.xml  -> NAME.err      (the error message, one line);
 *                                       names starting with "schema-" are parsed with
 *                                       DOMAIN_PARSE_VALIDATE
 *
 * TEST_REGENERATE=1 rewrites the expected files. VIRTD_SRCDIR points at the source tree.
 */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "xml/domain-conf-priv.h"
#include "daemon/util/virt-error.h"

static const char *srcdir;
static gboolean regenerate;

static char *
data_path(const char *dir, const char *name)
{
    return g_build_filename(srcdir, "tests", "data", dir, name, NULL);
}

/* Compare @actual with file @path, or rewrite it when regenerating. */
static void
check_golden(const char *path, const char *actual)
{
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;

    if (regenerate) {
        g_assert_true(g_file_set_contents(path, actual, -1, &error));
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, &error))
        g_error("cannot read '%s': %s", path, error->message);
    if (strcmp(expected, actual) != 0) {
        g_printerr("--- expected %s\n%s--- actual\n%s", path, expected, actual);
        g_test_fail();
    }
}

static void
test_xml2xml(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_name = g_strdup_printf("%s.xml", name);
    g_autofree char *out_name = g_strdup_printf("%s.out.xml", name);
    g_autofree char *in_path = data_path("xml2xml", in_name);
    g_autofree char *out_path = data_path("xml2xml", out_name);
    g_autofree char *input = NULL;
    g_autofree char *output = NULL;
    g_autofree char *again = NULL;
    g_autoptr(DomainDef) def = NULL;
    g_autoptr(DomainDef) def2 = NULL;
    g_autoptr(DomainDef) copy = NULL;
    g_autofree char *copy_out = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_get_contents(in_path, &input, NULL, NULL));
    def = domain_def_parse(input, DOMAIN_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    output = domain_def_format(def, -1, DOMAIN_FORMAT_INACTIVE);
    check_golden(out_path, output);

    /* our own output is schema-valid and stable */
    def2 = domain_def_parse(output, DOMAIN_PARSE_VALIDATE, &error);
    g_assert_no_error(error);
    again = domain_def_format(def2, -1, DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(again, ==, output);

    copy = domain_def_copy(def);
    copy_out = domain_def_format(copy, -1, DOMAIN_FORMAT_INACTIVE);
    g_assert_cmpstr(copy_out, ==, output);
}

static void
test_invalid(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_name = g_strdup_printf("%s.xml", name);
    g_autofree char *err_name = g_strdup_printf("%s.err", name);
    g_autofree char *in_path = data_path("xml-invalid", in_name);
    g_autofree char *err_path = data_path("xml-invalid", err_name);
    g_autofree char *input = NULL;
    g_autofree char *message = NULL;
    g_autoptr(DomainDef) def = NULL;
    g_autoptr(GError) error = NULL;
    unsigned int flags = g_str_has_prefix(name, "schema-") ? DOMAIN_PARSE_VALIDATE : 0;

    g_assert_true(g_file_get_contents(in_path, &input, NULL, NULL));
    def = domain_def_parse(input, flags, &error);
    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_cmpint(virt_error_from(error->domain), >=, 0);
    /* house style: one phrase, no trailing period */
    g_assert_false(g_str_has_suffix(error->message, "."));
    message = g_strdup_printf("%s\n", error->message);
    check_golden(err_path, message);
}

#define MINIMAL_XML \
    "<domain type='kvm'><name>gen</name><memory>1024</memory>" \
    "<os><type>hvm</type></os><devices>" \
    "<interface type='user'/><interface type='network'><source network='default'/></interface>" \
    "<graphics type='vnc' passwd='s3cret'/></devices></domain>"

static void
test_generated(void)
{
    g_autoptr(DomainDef) a = domain_def_parse(MINIMAL_XML, DOMAIN_PARSE_VALIDATE, NULL);
    g_autoptr(DomainDef) b = domain_def_parse(MINIMAL_XML, 0, NULL);
    g_autofree char *xml = NULL;
    g_autofree char *secure = NULL;

    g_assert_nonnull(a);
    g_assert_nonnull(b);
    xml = domain_def_format(a, -1, DOMAIN_FORMAT_INACTIVE);
    g_assert_true(g_regex_match_simple(
        "<uuid>[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}</uuid>",
        xml, 0, 0));
    g_assert_true(g_regex_match_simple(
        "<interface type='user'>\n      <mac address='52:54:00(:[0-9a-f]{2}){3}'/>", xml, 0, 0));
    g_assert_true(g_regex_match_simple(
        "<interface type='network'>\n      <mac address='52:54:00(:[0-9a-f]{2}){3}'/>", xml,
        0, 0));
    g_assert_cmpmem(domain_def_get_uuid(a), 16, domain_def_get_uuid(a), 16);
    g_assert_true(memcmp(domain_def_get_uuid(a), domain_def_get_uuid(b), 16) != 0);
    /* the password shows only with the SECURE flag; the id only when >= 0 */
    g_assert_null(strstr(xml, "passwd"));
    g_assert_true(g_str_has_prefix(xml, "<domain type='kvm'>\n"));
    secure = domain_def_format(a, 7, DOMAIN_FORMAT_SECURE);
    g_assert_nonnull(strstr(secure, "passwd='s3cret'"));
    g_assert_true(g_str_has_prefix(secure, "<domain type='kvm' id='7'>"));
}

static void
test_accessors(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(DomainDef) def = domain_def_parse(
        "<domain type='qemu'><name>acc</name><memory unit='MiB'>512</memory>"
        "<vcpu current='1'>4</vcpu><os><type machine='q35'>hvm</type></os></domain>",
        0, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(domain_def_get_name(def), ==, "acc");
    g_assert_cmpstr(domain_def_get_virt_type(def), ==, "qemu");
    g_assert_cmpstr(domain_def_get_os_type(def), ==, "hvm");
    g_assert_cmpstr(domain_def_get_arch(def), ==, "x86_64");
    g_assert_cmpstr(domain_def_get_machine(def), ==, "q35");
    domain_def_set_machine(def, "pc-q35-7.2");
    g_assert_cmpstr(domain_def_get_machine(def), ==, "pc-q35-7.2");
    g_assert_cmpuint(domain_def_get_max_memory_kib(def), ==, 524288);
    g_assert_cmpuint(domain_def_get_current_memory_kib(def), ==, 524288);
    g_assert_cmpuint(domain_def_get_vcpus_max(def), ==, 4);
    g_assert_cmpuint(domain_def_get_vcpus_current(def), ==, 1);

    g_assert_true(domain_def_set_current_memory_kib(def, 1024, &error));
    g_assert_false(domain_def_set_current_memory_kib(def, 600000, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_clear_error(&error);
    domain_def_set_max_memory_kib(def, 512);
    g_assert_cmpuint(domain_def_get_current_memory_kib(def), ==, 512);

    g_assert_true(domain_def_set_vcpus(def, 3, FALSE, &error));
    g_assert_false(domain_def_set_vcpus(def, 5, FALSE, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_clear_error(&error);
    g_assert_false(domain_def_set_vcpus(def, 0, TRUE, &error));
    g_clear_error(&error);
    g_assert_true(domain_def_set_vcpus(def, 2, TRUE, &error));
    g_assert_cmpuint(domain_def_get_vcpus_current(def), ==, 2);

    domain_def_set_name(def, "renamed");
    g_assert_cmpstr(domain_def_get_name(def), ==, "renamed");
}

static void
test_name_check(void)
{
    static const char *const bad[] = { "", "a/b", "tab\there", NULL };
    g_autofree char *too_long = g_strnfill(256, 'x');
    g_autofree char *longest = g_strnfill(255, 'x');

    g_assert_true(domain_name_check("web-1.example", NULL));
    g_assert_true(domain_name_check(longest, NULL));
    g_assert_false(domain_name_check(too_long, NULL));
    {
        g_autoptr(GError) error = NULL;

        /* XML input is always UTF-8 once parsed, so only the API can get here */
        g_assert_false(domain_name_check("\xff\xfe", &error));
        g_assert_cmpstr(error->message, ==, "domain name is not valid UTF-8");
    }
    for (int i = 0; bad[i]; i++) {
        g_autoptr(GError) error = NULL;

        g_assert_false(domain_name_check(bad[i], &error));
        g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    }
}

static void
test_metadata(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(DomainDef) def = domain_def_parse(
        "<domain type='kvm'><name>md</name><uuid>00000000-0000-4000-8000-000000000001</uuid>"
        "<memory>1024</memory><os><type>hvm</type></os></domain>", 0, &error);
    g_autofree char *got = NULL;
    g_autofree char *xml = NULL;

    g_assert_no_error(error);
    /* absent */
    g_assert_null(domain_def_get_metadata(def, VIR_DOMAIN_METADATA_TITLE, NULL, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_NO_DOMAIN_METADATA));
    g_assert_cmpstr(error->message, ==, "domain 'md' has no title");
    g_clear_error(&error);
    g_assert_null(domain_def_get_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "http://x/", &error));
    g_assert_true(virt_error_is(error, VIR_ERR_NO_DOMAIN_METADATA));
    g_assert_cmpstr(error->message, ==,
                    "domain 'md' has no metadata element in namespace 'http://x/'");
    g_clear_error(&error);

    /* title and description */
    g_assert_false(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_TITLE, "a\nb", NULL, NULL,
                                           &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_clear_error(&error);
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_TITLE, "My VM", NULL, NULL,
                                          &error));
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_DESCRIPTION, "line1\nline2",
                                          NULL, NULL, &error));
    got = domain_def_get_metadata(def, VIR_DOMAIN_METADATA_TITLE, NULL, &error);
    g_assert_cmpstr(got, ==, "My VM");
    g_clear_pointer(&got, g_free);

    /* element: stored under the given namespace and prefix, replaced, removed */
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT,
                                          "<app><x a='1'>text</x></app>", "foo",
                                          "http://foo.example/", &error));
    g_assert_no_error(error);
    got = domain_def_get_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "http://foo.example/",
                                  &error);
    /* read back as the client wrote it: our prefix and namespace are not part of it */
    g_assert_cmpstr(got, ==, "<app>\n  <x a=\"1\">text</x>\n</app>");
    g_autofree char *stored = domain_def_format(def, -1, 0);
    g_assert_nonnull(strstr(stored, "<foo:app xmlns:foo=\"http://foo.example/\">"));
    g_clear_pointer(&got, g_free);
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "<other/>", "bar",
                                          "http://bar.example/", &error));
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "<app2/>", "foo",
                                          "http://foo.example/", &error));
    xml = domain_def_format(def, -1, DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(xml,
                            "  <title>My VM</title>\n"
                            "  <description>line1\nline2</description>\n"
                            "  <metadata>\n"
                            "    <bar:other xmlns:bar=\"http://bar.example/\"/>\n"
                            "    <foo:app2 xmlns:foo=\"http://foo.example/\"/>\n"
                            "  </metadata>\n"));
    g_clear_pointer(&xml, g_free);

    g_assert_false(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "<a>", "k",
                                           "http://k/", &error));
    g_assert_true(virt_error_is(error, VIR_ERR_XML_ERROR));
    /* the parser's own detail follows */
    g_assert_true(g_str_has_prefix(error->message, "invalid metadata element: malformed XML"));
    g_clear_error(&error);
    g_assert_false(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "<a/>", NULL,
                                           "http://k/", &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(error->message, ==, "metadata element needs a namespace key");
    g_clear_error(&error);

    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, NULL, NULL,
                                          "http://foo.example/", &error));
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, NULL, NULL,
                                          "http://bar.example/", &error));
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_TITLE, NULL, NULL, NULL,
                                          &error));
    g_assert_true(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_DESCRIPTION, "", NULL, NULL,
                                          &error));
    xml = domain_def_format(def, -1, DOMAIN_FORMAT_INACTIVE);
    g_assert_null(strstr(xml, "metadata"));
    g_assert_null(strstr(xml, "title"));
    g_assert_null(strstr(xml, "description"));
}

/* Argument errors of the metadata API: none of these is reachable from domain XML. */
static void
test_metadata_errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(DomainDef) def = domain_def_parse(
        "<domain type='kvm'><name>md</name><memory>1024</memory><os><type>hvm</type></os>"
        "</domain>", 0, &error);

    g_assert_no_error(error);
    g_assert_false(domain_def_set_metadata(def, 99, "x", NULL, NULL, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(error->message, ==, "unknown metadata type 99");
    g_clear_error(&error);
    g_assert_null(domain_def_get_metadata(def, 99, NULL, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(error->message, ==, "unknown metadata type 99");
    g_clear_error(&error);

    g_assert_false(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "k", "",
                                           &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(error->message, ==, "metadata element needs a namespace URI");
    g_clear_error(&error);
    g_assert_null(domain_def_get_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, NULL, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(error->message, ==, "metadata element needs a namespace URI");
    g_clear_error(&error);

    g_assert_false(domain_def_set_metadata(def, VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "1bad",
                                           "http://k/", &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(error->message, ==, "metadata key '1bad' is not a valid XML name");
    g_clear_error(&error);

    g_assert_null(domain_def_parse(NULL, 0, &error));
    g_assert_true(virt_error_is(error, VIR_ERR_INVALID_ARG));
    g_assert_cmpstr(error->message, ==, "no XML given");
}

static gint
cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* Register one test per golden input in @dir (every NAME.xml but NAME.out.xml). */
static void
add_golden(const char *dir, const char *prefix, GTestDataFunc func)
{
    g_autofree char *path = g_build_filename(srcdir, "tests", "data", dir, NULL);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    const char *entry;

    g_assert_nonnull(d);
    while ((entry = g_dir_read_name(d))) {
        if (g_str_has_suffix(entry, ".xml") && !g_str_has_suffix(entry, ".out.xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_ptr_array_sort(names, cmp_str_ptr);
    for (guint i = 0; i < names->len; i++) {
        char *name = names->pdata[i];
        g_autofree char *test = g_strdup_printf("%s/%s", prefix, name);

        g_test_add_data_func_full(test, name, func, g_free);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    srcdir = g_getenv("VIRTD_SRCDIR");
    if (!srcdir)
        srcdir = ".";
    regenerate = g_strcmp0(g_getenv("TEST_REGENERATE"), "1") == 0;

    add_golden("xml2xml", "/xml2xml", test_xml2xml);
    add_golden("xml-invalid", "/xml-invalid", test_invalid);
    g_test_add_func("/domain/generated", test_generated);
    g_test_add_func("/domain/accessors", test_accessors);
    g_test_add_func("/domain/name-check", test_name_check);
    g_test_add_func("/domain/metadata", test_metadata);
    g_test_add_func("/domain/metadata-errors", test_metadata_errors);
    return g_test_run();
}
