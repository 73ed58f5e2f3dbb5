using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using Engine.Training.Data;

namespace Engine.TextFeatures;

/// <summary>Item sentences indexed by item id, read from a TSV of sentences or from MMRec's meta-&lt;dataset&gt;.csv.</summary>
public static class ItemTexts
{
    /// <summary>
    /// <c>itemID&lt;TAB&gt;…&lt;TAB&gt;text</c>, no header: the first column is the id, the last the sentence, any between
    /// are ignored. The ids must be exactly 0..n−1, in any order.
    /// </summary>
    public static string[] ReadTsv(string path)
    {
        var byId = new Dictionary<int, (string Text, int Line)>();
        int line = 0;
        foreach (var row in File.ReadLines(path))
        {
            line++;
            if (row.Length == 0) continue;
            var fields = row.Split('\t');
            if (fields.Length < 2)
                throw new DataFormatException(path, line, "expected itemID<TAB>…<TAB>text, found no tab");
            Add(path, line, byId, fields[0], fields[^1]);
        }
        return InOrder(path, byId);
    }

    /// <summary>
    /// MMRec's meta-&lt;dataset&gt;.csv (header itemID, asin, categories, description, title, price, imUrl, brand, …):
    /// each sentence is built as MMRec's 3feat-encoder does it.
    /// </summary>
    public static string[] ReadMeta(string path)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { BadDataFound = null });
        if (!csv.Read() || !csv.ReadHeader())
            throw new DataFormatException(path, 1, "empty file: expected a header with itemID, title, brand, categories, description");
        var header = csv.HeaderRecord!;
        foreach (var column in new[] { "itemID", "title", "brand", "categories", "description" })
            if (!header.Contains(column))
                throw new DataFormatException(path, 1, $"no column '{column}' in the header ({string.Join(", ", header)})");

        var byId = new Dictionary<int, (string Text, int Line)>();
        while (csv.Read())
        {
            int line = csv.Parser.RawRow; // the record's first line (fields may span lines)
            Add(path, line, byId, csv.GetField("itemID")!, Sentence(
                csv.GetField("title"), csv.GetField("brand"), csv.GetField("categories"), csv.GetField("description")));
        }
        return InOrder(path, byId);
    }

    /// <summary>
    /// MMRec's recipe (preprocessing/3feat-encoder.ipynb): title + " " + brand + " ", then each name of the first
    /// category list followed by " ", then the description; newlines become spaces. A missing field is " ".
    /// The categories field is a Python list of lists, e.g. <c>[['Baby', 'Nursery'], ['Baby']]</c>.
    /// </summary>
    public static string Sentence(string? title, string? brand, string? categories, string? description)
    {
        static string Field(string? s) => string.IsNullOrEmpty(s) ? " " : s;
        var sentence = new StringBuilder(Field(title)).Append(' ').Append(Field(brand)).Append(' ');
        foreach (var name in FirstCategoryList(categories)) sentence.Append(name).Append(' ');
        return sentence.Append(Field(description)).Replace('\n', ' ').ToString();
    }

    /// <summary>The string literals of the first inner list of a Python list of lists; none when there is no list.</summary>
    private static List<string> FirstCategoryList(string? categories)
    {
        var names = new List<string>();
        var s = categories ?? "";
        int i = s.IndexOf('['), depth = 0;
        for (; i >= 0 && i < s.Length; i++)
        {
            char c = s[i];
            if (c == '[') depth++;
            else if (c == ']' && --depth < 2) break; // the first inner list has ended
            else if (depth == 2 && c is '\'' or '"')
            {
                // A Python string literal: the quote that opened it closes it; a backslash escapes the next character.
                var name = new StringBuilder();
                for (i++; i < s.Length && s[i] != c; i++)
                    name.Append(s[i] == '\\' && i + 1 < s.Length ? s[++i] : s[i]);
                names.Add(name.ToString());
            }
        }
        return names;
    }

    private static void Add(string path, int line, Dictionary<int, (string, int)> byId, string idField, string text)
    {
        if (!int.TryParse(idField, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new DataFormatException(path, line, $"item id '{DataFormatException.Printable(idField, 40)}' is not a non-negative integer");
        if (!byId.TryAdd(id, (text, line)))
            throw new DataFormatException(path, line, $"item id {id} repeats line {byId[id].Item2}");
    }

    private static string[] InOrder(string path, Dictionary<int, (string Text, int Line)> byId)
    {
        if (byId.Count == 0) throw new DataFormatException(path, null, "no items");
        var texts = new string[byId.Count];
        foreach (var (id, (text, line)) in byId)
        {
            if (id >= texts.Length)
                throw new DataFormatException(path, line,
                    $"item id {id} is out of 0..{texts.Length - 1}: ids must be exactly 0..n−1 for {texts.Length} items");
            texts[id] = text;
        }
        return texts;
    }
}
