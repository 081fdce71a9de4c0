-- How a collection keeps its resident rerank rows: float32, half precision, or int8 codes with
-- a scale per row (src/core/quantize.ts). Existing collections keep float32.
ALTER TABLE collections ADD COLUMN resident_type TEXT NOT NULL DEFAULT 'f32' CHECK (resident_type IN ('f32', 'f16', 'int8'));
