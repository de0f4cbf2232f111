package browsertest

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"os"
)

// WriteY4M writes a YUV4MPEG2 video (the format of Chromium's
// --use-file-for-fake-video-capture) of width × height pixels (both even) at 30 frames per
// second, 4:2:0 chroma (C420jpeg), one frame per image: each image drawn unscaled at the centre
// of a white frame, in grey (Y = Rec. 601 luma, U = V = 128). Chromium plays the frames in a
// loop. An image larger than the frame is cropped.
func WriteY4M(path string, width, height int, frames ...image.Image) error {
	if width%2 != 0 || height%2 != 0 || width <= 0 || height <= 0 || len(frames) == 0 {
		return fmt.Errorf("browsertest: WriteY4M: want even positive sizes and a frame, got %d×%d, %d frames", width, height, len(frames))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\n", width, height)
	y := make([]byte, width*height)
	chroma := make([]byte, width*height/2) // U and V planes, each (w/2)·(h/2)
	for i := range chroma {
		chroma[i] = 128
	}
	for _, img := range frames {
		for i := range y {
			y[i] = 255
		}
		b := img.Bounds()
		ox, oy := (width-b.Dx())/2, (height-b.Dy())/2
		for py := b.Min.Y; py < b.Max.Y; py++ {
			fy := oy + py - b.Min.Y
			if fy < 0 || fy >= height {
				continue
			}
			for px := b.Min.X; px < b.Max.X; px++ {
				fx := ox + px - b.Min.X
				if fx < 0 || fx >= width {
					continue
				}
				y[fy*width+fx] = color.GrayModel.Convert(img.At(px, py)).(color.Gray).Y
			}
		}
		w.WriteString("FRAME\n")
		w.Write(y)
		w.Write(chroma)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
