// Prints Double.toString of each double read from stdin (one per line, its
// IEEE-754 bits as 16 hex digits), for gateway/tests/double_vs_java.rs.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;

public class DoubleSpelling {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        PrintWriter out = new PrintWriter(System.out);
        String line;
        while ((line = in.readLine()) != null) {
            out.println(Double.toString(Double.longBitsToDouble(Long.parseUnsignedLong(line, 16))));
        }
        out.flush();
    }
}
