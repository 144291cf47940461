package org.dmabuf.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTextTest {
    /** Every character a peer may put in a buffer name that JSON or HTML would read as syntax. */
    static final String HOSTILE = "</script><img src=x onerror=alert(1)>\"\\'&\u0001\u001f\u007f\n\r\t\u2028\u2029é😀";

    @Test
    void aHostileStringIsReadBackAsTheSameTextAndCarriesNoMarkup() throws Exception {
        String json = JsonText.of(Map.of("name", HOSTILE));
        assertThat(json).doesNotContain("<", ">", "&", "\u2028", "\u2029", "\n", "\u0001", "\u007f");
        assertThat(Python.eval(json, "d['name']")).isEqualTo(Python.eval(JsonText.of(HOSTILE), "d"))
                .isEqualTo("\"</script><img src=x onerror=alert(1)>\\\"\\\\'&\\u0001\\u001f\\u007f\\n\\r\\t"
                        + "\\u2028\\u2029\\u00e9\\ud83d\\ude00\"");
    }

    @Test
    void aLoneSurrogateBecomesTheReplacementCharacter() throws Exception {
        String json = JsonText.of(List.of("a\ud800b", "\udc00"));
        assertThat(Python.eval(json, "d")).isEqualTo("[\"a\\ufffdb\", \"\\ufffd\"]");
    }

    @Test
    void numbersBooleansNullsAndNestingAreJson() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("long", Long.MAX_VALUE);
        m.put("int", -3);
        m.put("double", 29.5);
        m.put("yes", true);
        m.put("none", null);
        m.put("list", List.of(Map.of("k", "v"), List.of()));
        assertThat(Python.eval(JsonText.of(m), "d")).isEqualTo("{\"double\": 29.5, \"int\": -3, \"list\": "
                + "[{\"k\": \"v\"}, []], \"long\": 9223372036854775807, \"none\": null, \"yes\": true}");
    }

    @Test
    void whatJsonCannotHoldIsRefused() {
        assertThatThrownBy(() -> JsonText.of(Double.NaN)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> JsonText.of(new Object())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.Object");
    }
}
