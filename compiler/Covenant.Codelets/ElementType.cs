namespace Covenant.Codelets;

/// <summary>The element types a codelet tensor can have.</summary>
public enum ElementType
{
    I8,
    U8,
    I32,
    F16,
    F32,
}

public static class ElementTypes
{
    public static readonly IReadOnlyList<string> Names = ["i8", "u8", "i32", "f16", "f32"];

    public static bool TryParse(string name, out ElementType type)
    {
        switch (name)
        {
            case "i8": type = ElementType.I8; return true;
            case "u8": type = ElementType.U8; return true;
            case "i32": type = ElementType.I32; return true;
            case "f16": type = ElementType.F16; return true;
            case "f32": type = ElementType.F32; return true;
            default: type = default; return false;
        }
    }

    public static string Name(this ElementType type) => type switch
    {
        ElementType.I8 => "i8",
        ElementType.U8 => "u8",
        ElementType.I32 => "i32",
        ElementType.F16 => "f16",
        ElementType.F32 => "f32",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static bool IsInteger(this ElementType type) => type is ElementType.I8 or ElementType.U8 or ElementType.I32;

    public static bool IsFloat(this ElementType type) => !type.IsInteger();

    public static int Bytes(this ElementType type) => type switch
    {
        ElementType.I8 or ElementType.U8 => 1,
        ElementType.F16 => 2,
        _ => 4,
    };
}
