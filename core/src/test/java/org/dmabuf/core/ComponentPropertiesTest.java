package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.dmabuf.api.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Reading a component property type from a map ({@link ComponentProperties}), as Declarative Services reads it:
 * names mapped by its rules, values converted to each method's type, defaults where absent; and refused with
 * {@code EINVAL} naming the PID and the property where a framework would fail the activation.
 */
class ComponentPropertiesTest {
    enum Mode { FAST, SAFE }

    @interface Config {
        String dev_path();

        int service_ranking() default 150;

        boolean dmaheap_enabled() default true;

        long max__size() default 1L << 40;

        String a$_$b() default "dash";

        String dollar$$sign() default "dollar";

        Mode mode() default Mode.SAFE;

        String[] names() default {};

        short small() default 1;

        double ratio() default 0.5;

        char letter() default 'x';
    }

    private static Config read(Map<String, ?> props) {
        return ComponentProperties.of(Config.class, props, "test.pid~one");
    }

    @ParameterizedTest
    @CsvSource({"dev_path, dev.path", "service_ranking, service.ranking", "max__size, max_size", "a$_$b, a-b",
        "dollar$$sign, dollar$sign", "do$llar, dollar", "plain, plain", "a_b_c, a.b.c"})
    void methodNamesMapToPropertyNamesAsDeclarativeServicesMapsThem(String method, String property) {
        assertThat(ComponentProperties.propertyName(method)).isEqualTo(property);
    }

    @Test
    void absentPropertiesGiveTheDefaults() {
        Config c = read(Map.of("dev.path", "/dev/dri/card0"));
        assertThat(c.dev_path()).isEqualTo("/dev/dri/card0");
        assertThat(c.service_ranking()).isEqualTo(150);
        assertThat(c.dmaheap_enabled()).isTrue();
        assertThat(c.max__size()).isEqualTo(1L << 40);
        assertThat(c.a$_$b()).isEqualTo("dash");
        assertThat(c.mode()).isEqualTo(Mode.SAFE);
        assertThat(c.names()).isEmpty();
        assertThat(c.annotationType()).isEqualTo(Config.class);
    }

    @Test
    void valuesConvertFromStringsNumbersBooleansAndArrays() {
        Config c = read(Map.of("dev.path", 7, "service.ranking", "  -20 ", "dmaheap.enabled", "FALSE",
                "max_size", 5, "a-b", "x-y", "dollar$sign", "$", "mode", "FAST", "names", List.of("a", "b"),
                "small", 3L, "ratio", "2.5"));
        assertThat(c.dev_path()).isEqualTo("7");
        assertThat(c.service_ranking()).isEqualTo(-20);
        assertThat(c.dmaheap_enabled()).isFalse();
        assertThat(c.max__size()).isEqualTo(5L);
        assertThat(c.a$_$b()).isEqualTo("x-y");
        assertThat(c.dollar$$sign()).isEqualTo("$");
        assertThat(c.mode()).isEqualTo(Mode.FAST);
        assertThat(c.names()).containsExactly("a", "b");
        assertThat(c.small()).isEqualTo((short) 3);
        assertThat(c.ratio()).isEqualTo(2.5);
        assertThat(read(Map.of("dev.path", "p", "service.ranking", new int[] {9, 10})).service_ranking()).isEqualTo(9);
        assertThat(read(Map.of("dev.path", "p", "names", "one")).names()).containsExactly("one");
    }

    @Test
    void anArrayReturnedIsACopy() {
        Config c = read(Map.of("dev.path", "p", "names", new String[] {"a"}));
        c.names()[0] = "changed";
        assertThat(c.names()).containsExactly("a");
    }

    @Test
    void anAbsentPropertyWithoutDefaultIsRefusedNamingIt() {
        assertThatThrownBy(() -> read(Map.of("service.ranking", 1))).isInstanceOf(InvalidArgumentException.class)
                .hasMessage("activate: EINVAL: test.pid~one: property dev.path is required (it has no default) and "
                        + "is absent");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "service.ranking | abc | is not an integer",
        "service.ranking | 1.5 | is not an integer",
        "service.ranking | 4294967296 | is out of range",
        "dmaheap.enabled | yes | is not true or false",
        "mode | SLOW | is none of [FAST, SAFE]",
        "small | 70000 | is out of range",
        "ratio | half | is not a number",
        "letter | xy | is not one character"})
    void aValueThatDoesNotConvertIsRefusedNamingThePropertyAndValue(String property, String value, String why) {
        assertThatThrownBy(() -> read(Map.of("dev.path", "p", property, value)))
                .isInstanceOf(InvalidArgumentException.class)
                .satisfies(e -> assertThat(((InvalidArgumentException) e).errno()).isEqualTo("EINVAL"))
                .hasMessageStartingWith("activate: EINVAL: test.pid~one: property " + property + " = '" + value
                        + "' " + why);
    }

    @Test
    void numbersOfOtherTypesConvertOnlyWhenExact() {
        assertThat(read(Map.of("dev.path", "p", "service.ranking", 12L)).service_ranking()).isEqualTo(12);
        assertThat(read(Map.of("dev.path", "p", "service.ranking", 12.0)).service_ranking()).isEqualTo(12);
        assertThatThrownBy(() -> read(Map.of("dev.path", "p", "service.ranking", Long.MAX_VALUE)))
                .hasMessageContaining("property service.ranking").hasMessageContaining("out of range");
        assertThatThrownBy(() -> read(Map.of("dev.path", "p", "dmaheap.enabled", 1)))
                .hasMessageContaining("property dmaheap.enabled = '1' is not true or false");
    }
}
