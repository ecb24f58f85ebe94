namespace CodecLlm.Codecs;

/// <summary>
/// Where things are in a <c>fixed</c> blob (docs/FORMAT.md, section "fixed"): the matrix [rows, cols] is
/// padded to [paddedRows, paddedCols] (multiples of 4 and 8) and cut into tiles of 4 rows × up to 256
/// columns; in a tile, lane l (0..31) owns columns 8l..8l+7 of the 4 rows. The last tile of a row group
/// is narrower when paddedCols is not a multiple of 256: it has <see cref="LastTileLanes"/> lanes.
/// </summary>
public readonly record struct FixedTileGeometry(int Rows, int Cols, int RestBytes)
{
    public const int TileRows = 4;
    public const int TileCols = 256;
    public const int LaneCols = 8;
    public const int Lanes = 32;
    public const int WeightsPerLane = TileRows * LaneCols;

    /// <summary>The [rows, cols] a fixed-codec matrix is viewed as: rank 2 as is, rank 1 as one row, rank n as [shape0, rest].</summary>
    public static (int Rows, int Cols) MatrixOf(long[] shape)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        if (n == 0) return (0, 0);
        return shape.Length switch
        {
            0 => (1, 1),
            1 => (1, checked((int)shape[0])),
            _ => (checked((int)shape[0]), checked((int)(n / shape[0]))),
        };
    }

    public int PaddedRows => (Rows + TileRows - 1) / TileRows * TileRows;

    public int PaddedCols => (Cols + LaneCols - 1) / LaneCols * LaneCols;

    public int RowGroups => PaddedRows / TileRows;

    /// <summary>Tiles per row group: ceil(paddedCols / 256).</summary>
    public int TilesPerRowGroup => (PaddedCols + TileCols - 1) / TileCols;

    /// <summary>Active lanes of the last tile of each row group (1..32; 32 when paddedCols % 256 == 0).</summary>
    public int LastTileLanes => TilesPerRowGroup == 0 ? 0 : (PaddedCols - (TilesPerRowGroup - 1) * TileCols) / LaneCols;

    public int TileCount => RowGroups * TilesPerRowGroup;

    /// <summary>Bytes of a tile with <paramref name="lanes"/> active lanes: sign/mantissa bytes, 3 code planes, padded to 16.</summary>
    public long TileBytes(int lanes) => AlignUp16((long)lanes * WeightsPerLane * RestBytes + 3L * 4 * lanes);

    /// <summary>Offset of the code planes inside a tile with <paramref name="lanes"/> lanes (plane p word l at + 4·(p·lanes + l)).</summary>
    public long PlanesOffset(int lanes) => (long)lanes * WeightsPerLane * RestBytes;

    public long RowGroupBytes => TilesPerRowGroup == 0 ? 0 : (TilesPerRowGroup - 1) * TileBytes(Lanes) + TileBytes(LastTileLanes);

    /// <summary>Offset of tile t of row group rg from the start of the tile region.</summary>
    public long TileOffset(int rowGroup, int tile) => rowGroup * RowGroupBytes + tile * TileBytes(Lanes);

    public int LanesOf(int tile) => tile == TilesPerRowGroup - 1 ? LastTileLanes : Lanes;

    private static long AlignUp16(long x) => (x + 15) & ~15L;
}
