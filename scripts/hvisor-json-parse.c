/*
 * Test oracle: reads a JSON list from stdin and prints, one line per item, what hvisor-tool's own
 * number readers (tools/json_parse.c, linked unmodified) make of it:
 *   u64 u32 u8 valueint
 * where a reader that refuses the item prints "-", and valueint is cJSON's (the fields hvisor-tool
 * reads without json_parse.c: zone_id, cpus, ivc_id, peer_id, interrupt_num, max_peers, is_aarch32).
 * Built by scripts/fixtures.sh into .fixtures/hvisor-json-parse/json-parse.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "cJSON.h"
#include "json_parse.h"

int main(void) {
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, stdin);
    text[n] = '\0';
    cJSON *list = cJSON_Parse(text);
    if (list == NULL || !cJSON_IsArray(list)) {
        fprintf(stderr, "json-parse: stdin is not a JSON list\n");
        return 2;
    }
    cJSON *item;
    cJSON_ArrayForEach(item, list) {
        uint64_t u64;
        uint32_t u32;
        uint8_t u8;
        if (parse_json_u64(item, &u64) == 0) printf("%" PRIu64, u64); else printf("-");
        if (parse_json_u32(item, &u32) == 0) printf(" %" PRIu32, u32); else printf(" -");
        if (parse_json_u8(item, &u8) == 0) printf(" %u", u8); else printf(" -");
        printf(" %d\n", item->valueint);
    }
    cJSON_Delete(list);
    return 0;
}
