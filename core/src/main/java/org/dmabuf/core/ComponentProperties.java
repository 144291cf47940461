package org.dmabuf.core;

import java.lang.reflect.Array;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dmabuf.api.InvalidArgumentException;

/**
 * Reads a component property type (a component's {@code Config} annotation) from a map of properties as
 * Declarative Services does, so that a plain-Java program is configured by the very interfaces the components
 * read: each method's name maps to a property name ({@code $$} to {@code $}, {@code $_$} to {@code -}, any other
 * {@code $} dropped, {@code __} to {@code _}, {@code _} to {@code .}), and the property's value (a String, Number,
 * Boolean, Character, array or collection) converts to the method's return type; an absent property gives the
 * method's default. Stricter than a framework on what it refuses: every method is read at once, and a value that
 * does not convert exactly (a non-number, a number out of the type's range, a boolean other than {@code true} or
 * {@code false}), or an absent property without a default, is refused with {@code EINVAL} naming the PID and the
 * property. Stateless; any thread. The result is immutable.
 */
final class ComponentProperties {
    private ComponentProperties() {
    }

    /**
     * Reads a configuration.
     *
     * @param <A> the property type
     * @param type an interface (usually an annotation) whose methods take no argument
     * @param properties the configuration's properties
     * @param what the configuration's PID (and name), for errors
     * @return the configuration
     * @throws InvalidArgumentException ({@code EINVAL}, call {@code activate}) naming {@code what} and the property
     */
    static <A> A of(Class<A> type, Map<String, ?> properties, String what) {
        if (!type.isInterface()) {
            throw new IllegalArgumentException(type + " is not an interface");
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (Method m : type.getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || m.isDefault()
                    || m.getDeclaringClass() == java.lang.annotation.Annotation.class) {
                continue;
            }
            String property = propertyName(m.getName());
            Object raw = properties.get(property);
            Object value;
            if (raw == null) {
                value = m.getDefaultValue();
                if (value == null) {
                    throw new InvalidArgumentException("activate", what + ": property " + property
                            + " is required (it has no default) and is absent");
                }
            } else {
                value = convert(raw, m.getReturnType(), what, property);
            }
            values.put(m.getName(), value);
        }
        String text = type.getName() + values;
        InvocationHandler h = (proxy, method, args) -> {
            if (method.isDefault()) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            switch (method.getName()) {
                case "toString":
                    if (method.getParameterCount() == 0) {
                        return text;
                    }
                    break;
                case "hashCode":
                    if (method.getParameterCount() == 0) {
                        return System.identityHashCode(proxy);
                    }
                    break;
                case "equals":
                    if (method.getParameterCount() == 1) {
                        return proxy == args[0];
                    }
                    break;
                case "annotationType":
                    if (method.getParameterCount() == 0 && type.isAnnotation()) {
                        return type;
                    }
                    break;
                default:
                    break;
            }
            Object v = values.get(method.getName());
            if (v != null && v.getClass().isArray()) {
                return cloneArray(v);
            }
            if (v == null) {
                throw new UnsupportedOperationException(method.toString());
            }
            return v;
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h));
    }

    /**
     * The property a method reads, by Declarative Services' rules (OSGi Compendium 112.8.2.1).
     *
     * @param method the method's name
     * @return the property's name
     */
    static String propertyName(String method) {
        StringBuilder b = new StringBuilder(method.length());
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (c == '$') {
                if (method.startsWith("$$", i)) {
                    b.append('$');
                    i++;
                } else if (method.startsWith("$_$", i)) {
                    b.append('-');
                    i += 2;
                }
                // any other $ is dropped
            } else if (c == '_') {
                if (method.startsWith("__", i)) {
                    b.append('_');
                    i++;
                } else {
                    b.append('.');
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static Object cloneArray(Object a) {
        int n = Array.getLength(a);
        Object c = Array.newInstance(a.getClass().getComponentType(), n);
        System.arraycopy(a, 0, c, 0, n);
        return c;
    }

    private static Object convert(Object raw, Class<?> target, String what, String property) {
        if (target.isArray()) {
            List<Object> items = new ArrayList<>();
            if (raw.getClass().isArray()) {
                for (int i = 0; i < Array.getLength(raw); i++) {
                    items.add(Array.get(raw, i));
                }
            } else if (raw instanceof Collection<?> c) {
                items.addAll(c);
            } else {
                items.add(raw);
            }
            Object out = Array.newInstance(target.getComponentType(), items.size());
            for (int i = 0; i < items.size(); i++) {
                Array.set(out, i, scalar(items.get(i), target.getComponentType(), what, property));
            }
            return out;
        }
        Object one = raw;
        if (raw.getClass().isArray()) {
            one = Array.getLength(raw) == 0 ? null : Array.get(raw, 0);
        } else if (raw instanceof Collection<?> c) {
            one = c.isEmpty() ? null : c.iterator().next();
        }
        if (one == null) {
            throw bad(what, property, raw, target, "is empty");
        }
        return scalar(one, target, what, property);
    }

    private static Object scalar(Object v, Class<?> target, String what, String property) {
        if (v == null) {
            throw bad(what, property, "null", target, "is null");
        }
        if (target == String.class) {
            return v.toString();
        }
        if (target == boolean.class || target == Boolean.class) {
            if (v instanceof Boolean b) {
                return b;
            }
            if (v instanceof String s && (s.trim().equalsIgnoreCase("true") || s.trim().equalsIgnoreCase("false"))) {
                return Boolean.valueOf(s.trim());
            }
            throw bad(what, property, v, target, "is not true or false");
        }
        if (target == char.class || target == Character.class) {
            if (v instanceof Character ch) {
                return ch;
            }
            if (v instanceof String s && s.length() == 1) {
                return s.charAt(0);
            }
            throw bad(what, property, v, target, "is not one character");
        }
        if (target.isEnum()) {
            for (Object c : target.getEnumConstants()) {
                if (((Enum<?>) c).name().equals(v.toString().trim())) {
                    return c;
                }
            }
            throw bad(what, property, v, target, "is none of " + List.of(target.getEnumConstants()));
        }
        if (target == double.class || target == Double.class || target == float.class || target == Float.class) {
            double d;
            if (v instanceof Number n) {
                d = n.doubleValue();
            } else {
                try {
                    d = Double.parseDouble(v.toString().trim());
                } catch (NumberFormatException e) {
                    throw bad(what, property, v, target, "is not a number");
                }
            }
            return target == double.class || target == Double.class ? (Object) d : (Object) (float) d;
        }
        long min;
        long max;
        if (target == int.class || target == Integer.class) {
            min = Integer.MIN_VALUE;
            max = Integer.MAX_VALUE;
        } else if (target == long.class || target == Long.class) {
            min = Long.MIN_VALUE;
            max = Long.MAX_VALUE;
        } else if (target == short.class || target == Short.class) {
            min = Short.MIN_VALUE;
            max = Short.MAX_VALUE;
        } else if (target == byte.class || target == Byte.class) {
            min = Byte.MIN_VALUE;
            max = Byte.MAX_VALUE;
        } else {
            throw bad(what, property, v, target, "cannot be read: the type is not supported");
        }
        long l;
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
            l = ((Number) v).longValue();
        } else if (v instanceof Number n) {
            double d = n.doubleValue();
            if (d != Math.rint(d) || Double.isInfinite(d)) {
                throw bad(what, property, v, target, "is not an integer");
            }
            l = (long) d;
        } else {
            try {
                l = Long.parseLong(v.toString().trim());
            } catch (NumberFormatException e) {
                throw bad(what, property, v, target, "is not an integer");
            }
        }
        if (l < min || l > max) {
            throw bad(what, property, v, target, "is out of range [" + min + ", " + max + "]");
        }
        if (target == int.class || target == Integer.class) {
            return (int) l;
        }
        if (target == short.class || target == Short.class) {
            return (short) l;
        }
        if (target == byte.class || target == Byte.class) {
            return (byte) l;
        }
        return l;
    }

    private static InvalidArgumentException bad(String what, String property, Object value, Class<?> target,
            String why) {
        return new InvalidArgumentException("activate", what + ": property " + property + " = '" + value + "' "
                + why + " (" + ("aeiou".indexOf(target.getSimpleName().charAt(0)) >= 0 ? "an " : "a ")
                + target.getSimpleName() + " is needed)");
    }
}
